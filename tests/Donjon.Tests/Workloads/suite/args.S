/* args.S: prints each argument after argv[0] on its own line, reading argc and argv from the initial stack. */
        .intel_syntax noprefix
        .globl _start
        .section .rodata
newline: .ascii "\n"
        .text
_start:
        mov r12, [rsp]                  /* argc */
        lea r13, [rsp + 16]             /* &argv[1] */
        dec r12
next:
        test r12, r12
        jz done
        mov rsi, [r13]                  /* the string */
        mov rdx, rsi
length:
        cmp byte ptr [rdx], 0
        je print
        inc rdx
        jmp length
print:
        sub rdx, rsi
        mov eax, 1
        mov edi, 1
        syscall
        mov eax, 1
        mov edi, 1
        lea rsi, [rip + newline]
        mov edx, 1
        syscall
        add r13, 8
        dec r12
        jmp next
done:
        mov eax, 231
        xor edi, edi
        syscall
        .section .note.GNU-stack, "", @progbits
