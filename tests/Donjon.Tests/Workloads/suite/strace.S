/* strace.S: a few syscalls with known arguments for run --strace: write, read of stdin, brk, an anonymous mmap and
   arch_prctl(ARCH_GET_FS) (which the shim serves itself), close of a descriptor that is not open (EBADF), sysfs
   (which no handler set serves), exit_group. */
        .intel_syntax noprefix
        .globl _start
        .section .rodata
hi:     .ascii "hi\n"
        .bss
buffer: .skip 16
        .text
_start:
        mov eax, 1                      /* write(1, "hi\n", 3) */
        mov edi, 1
        lea rsi, [rip + hi]
        mov edx, 3
        syscall
        xor eax, eax                    /* read(0, buffer, 16) */
        xor edi, edi
        lea rsi, [rip + buffer]
        mov edx, 16
        syscall
        mov eax, 12                     /* brk(0) */
        xor edi, edi
        syscall
        mov eax, 9                      /* mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) */
        xor edi, edi
        mov esi, 4096
        mov edx, 3
        mov r10d, 0x22
        mov r8, -1
        xor r9d, r9d
        syscall
        mov eax, 158                    /* arch_prctl(ARCH_GET_FS, buffer) */
        mov edi, 0x1003
        lea rsi, [rip + buffer]
        syscall
        mov eax, 3                      /* close(99) */
        mov edi, 99
        syscall
        mov eax, 139                    /* sysfs(3): the count of file system types */
        mov edi, 3
        syscall
        mov eax, 231                    /* exit_group(0) */
        xor edi, edi
        syscall
        .section .note.GNU-stack, "", @progbits
