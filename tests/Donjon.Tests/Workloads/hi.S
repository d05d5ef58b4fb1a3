/* Test workload: a raw static-PIE with no C library. Entry point: _start, called by the kernel (or a keep's
   shim) with rsp pointing at argc. It writes "hi\n" to stdout with write(2) and exits 0 with exit(2).
   Built at test time: gcc -nostdlib -static-pie -o hi hi.S */
        .intel_syntax noprefix

        .section .rodata
message:
        .ascii  "hi\n"
        .equ    message_size, . - message   /* defined before use, so it is an immediate, not a memory operand */

        .text
        .globl  _start
_start:
        mov     eax, 1                      /* write(fd = 1, buf = message, count = message_size) */
        mov     edi, 1
        lea     rsi, [rip + message]
        mov     edx, message_size
        syscall
        mov     eax, 60                     /* exit(status = 0) */
        xor     edi, edi
        syscall

        .section .note.GNU-stack, "", @progbits
