/* echo.S: copies stdin to stdout until end of file through a 64 KiB buffer in .bss, like echo.c. */
        .intel_syntax noprefix
        .globl _start
        .bss
        .balign 64
buffer: .skip 65536
        .text
_start:
read_more:
        xor eax, eax                    /* read(0, buffer, 65536) */
        xor edi, edi
        lea rsi, [rip + buffer]
        mov edx, 65536
        syscall
        test rax, rax
        jz done
        js failed
        mov r12, rax                    /* bytes left to write */
        lea r13, [rip + buffer]         /* where they start */
write_more:
        mov eax, 1
        mov edi, 1
        mov rsi, r13
        mov rdx, r12
        syscall
        test rax, rax
        jle failed
        add r13, rax
        sub r12, rax
        jnz write_more
        jmp read_more
done:
        mov eax, 231
        xor edi, edi
        syscall
failed:
        mov eax, 231
        mov edi, 2
        syscall
        .section .note.GNU-stack, "", @progbits
