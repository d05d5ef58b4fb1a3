/* fault.S: prints "fault at 0x<address>" of the instruction it is about to fault on, then faults in the way
   argv[1] names: ud (#UD, SIGILL), bp (int3, #BP, SIGTRAP), de (divide by zero, #DE, SIGFPE), pf (a store to
   0x12340, #PF, SIGSEGV), gp (hlt in ring 3, #GP, SIGSEGV). The printed address lets a test check the RIP a keep
   reports; a bad argument exits 2. */
        .intel_syntax noprefix
        .globl _start
        .section .rodata
prefix: .ascii "fault at 0x"
digits: .ascii "0123456789abcdef"
        .text
_start:
        cmp qword ptr [rsp], 2
        jne bad
        mov rsi, [rsp + 16]
        movzx eax, word ptr [rsi]
        cmp ax, 0x6475                  /* "ud" */
        lea r12, [rip + at_ud]
        je go
        cmp ax, 0x7062                  /* "bp" */
        lea r12, [rip + at_bp]
        je go
        cmp ax, 0x6564                  /* "de" */
        lea r12, [rip + at_de]
        je go
        cmp ax, 0x6670                  /* "pf" */
        lea r12, [rip + at_pf]
        je go
        cmp ax, 0x7067                  /* "gp" */
        lea r12, [rip + at_gp]
        je go
bad:    mov eax, 231
        mov edi, 2
        syscall
go:     /* "fault at 0x" + 16 hex digits + "\n", built on the stack */
        sub rsp, 32
        mov rcx, 16
        mov rdx, r12
        lea r8, [rip + digits]
hex:    mov rax, rdx
        and eax, 15
        mov al, byte ptr [r8 + rax]
        mov byte ptr [rsp + rcx - 1], al
        shr rdx, 4
        loop hex
        mov byte ptr [rsp + 16], 10
        mov eax, 1
        mov edi, 1
        lea rsi, [rip + prefix]
        mov edx, 11
        syscall
        mov eax, 1
        mov edi, 1
        mov rsi, rsp
        mov edx, 17
        syscall
        xor edx, edx
        xor ecx, ecx
        mov eax, 0x12340
        jmp r12
at_ud:  ud2
at_bp:  int3
        jmp bad
at_de:  div ecx
at_pf:  mov dword ptr [rax], 1
at_gp:  hlt
        .section .note.GNU-stack, "", @progbits
