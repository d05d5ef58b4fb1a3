/* exit7.S: writes to stdout and stderr, then exits with status 7, like exit7.c. */
        .intel_syntax noprefix
        .globl _start
        .section .rodata
out:    .ascii "to stdout\n"
err:    .ascii "to stderr\n"
        .text
_start:
        mov eax, 1
        mov edi, 1
        lea rsi, [rip + out]
        mov edx, 10
        syscall
        mov eax, 1
        mov edi, 2
        lea rsi, [rip + err]
        mov edx, 10
        syscall
        mov eax, 231
        mov edi, 7
        syscall
        .section .note.GNU-stack, "", @progbits
