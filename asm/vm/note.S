/*
 * asm/vm/note.S -- the VM shim's identification note (docs/protocol.md §4).
 *
 * Entry points: none; data only. vm.ld puts .note.donjon in its own PT_NOTE segment, where the host reads it
 * before launch and refuses a shim whose major version differs from its own. (The other note QEMU needs, the
 * PVH entry point, is in boot.S beside the entry it names.)
 *
 * Layout (ELF note): u32 namesz = 7, u32 descsz = 8, u32 type = DJ_NOTE_TYPE, "Donjon\0" padded to 4,
 * descriptor {u16 major, u16 minor, u32 reserved = 0}.
 */
#include "asm.h"
#include "shim.h"

    .section .note.donjon, "a", @note
    .balign 4
    .long   .Lname_end - .Lname
    .long   .Ldesc_end - .Ldesc
    .long   DJ_NOTE_TYPE
.Lname:
    .asciz  DJ_NOTE_NAME
.Lname_end:
    .balign 4
.Ldesc:
    .short  DJ_VERSION_MAJOR
    .short  DJ_VERSION_MINOR
    .long   0
.Ldesc_end:
    .if (.Ldesc_end - .Ldesc) != DJ_NOTE_DESCRIPTOR_SIZE
    .error "note: the descriptor size differs from DJ_NOTE_DESCRIPTOR_SIZE"
    .endif
