/* nullwrite.S: stores through a null pointer; the workload dies by SIGSEGV (status 139). */
        .intel_syntax noprefix
        .globl _start
        .section .rodata
message: .ascii "about to fault\n"
        .text
_start:
        mov eax, 1
        mov edi, 1
        lea rsi, [rip + message]
        mov edx, 15
        syscall
        xor eax, eax
        mov dword ptr [rax], 42
        mov eax, 231
        xor edi, edi
        syscall
        .section .note.GNU-stack, "", @progbits
