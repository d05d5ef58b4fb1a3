/* bigbss.S: a 3 GiB .bss, more than the default 1 GiB memory limit before the program runs one instruction.
   Natively it touches the first byte of the bss, then exits with status 0. */
        .intel_syntax noprefix
        .globl _start
        .bss
big:    .skip 3 << 30
        .text
_start:
        mov byte ptr [rip + big], 1
        mov eax, 231
        xor edi, edi
        syscall
        .section .note.GNU-stack, "", @progbits
