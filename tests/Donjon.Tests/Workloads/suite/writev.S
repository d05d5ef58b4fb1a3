/* writev.S: writes "one two three" from three pieces with writev(2). The iovec array is built on the stack at
   run time: a static PIE without libc has nobody to apply relocations to pointers stored in .data. */
        .intel_syntax noprefix
        .globl _start
        .section .rodata
a:      .ascii "one "
b:      .ascii "two "
c:      .ascii "three\n"
        .text
_start:
        sub rsp, 48
        lea rax, [rip + a]
        mov [rsp], rax
        mov qword ptr [rsp + 8], 4
        lea rax, [rip + b]
        mov [rsp + 16], rax
        mov qword ptr [rsp + 24], 4
        lea rax, [rip + c]
        mov [rsp + 32], rax
        mov qword ptr [rsp + 40], 6
        mov eax, 20                     /* writev(1, iov, 3) */
        mov edi, 1
        mov rsi, rsp
        mov edx, 3
        syscall
        cmp rax, 14
        jne failed
        mov eax, 231
        xor edi, edi
        syscall
failed:
        mov eax, 231
        mov edi, 1
        syscall
        .section .note.GNU-stack, "", @progbits
