/* hello.S: raw _start program, no libc. Prints the same line as hello.c. */
        .intel_syntax noprefix
        .globl _start
        .section .rodata
message: .ascii "hello, keep\n"
        .equ message_size, . - message
        .text
_start:
        mov eax, 1                      /* write(1, message, size) */
        mov edi, 1
        lea rsi, [rip + message]
        mov edx, message_size
        syscall
        mov eax, 231                    /* exit_group(0) */
        xor edi, edi
        syscall
        .section .note.GNU-stack, "", @progbits
