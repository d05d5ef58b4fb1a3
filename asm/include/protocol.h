/*
 * asm/include/protocol.h -- the host <-> shim protocol (docs/protocol.md), version 2.0: every offset,
 * size, magic number, version and kind, as the ONE source for the shims' C and assembly.
 *
 * Usable from C and from GNU as (.S files go through cpp): only plain integer literals (and one string),
 * no casts, no suffixes, no expressions.
 *
 * Every line that defines something has exactly the form
 *     #define DJ_NAME value  followed by an optional C comment
 * because ProtocolLayoutTests parses this file. DJ_NAME is the name of the constant of the same value in
 * host/Protocol/ProtocolLayout.cs, in upper snake case: split before every capital that follows a lower-case
 * letter or a digit, join with '_' (ImageVersionMajorOffset -> DJ_IMAGE_VERSION_MAJOR_OFFSET,
 * ArgumentKindCString -> DJ_ARGUMENT_KIND_CSTRING). Names ending in _OFFSET are byte offsets of a field
 * inside its structure; the others are values. Keep the two files in step; add nothing shim-private here
 * (that goes in asm/include/shim.h).
 */
#pragma once  /* not an include guard: every #define in this file is a DJ_NAME with a value */

/* ---- Common ---- */
#define DJ_PAGE_SIZE                             4096             /* The page size of every keep. */
#define DJ_VERSION_MAJOR                         2                /* The protocol's major version; a shim with another major version is refused (2: one slot per thread). */
#define DJ_VERSION_MINOR                         0                /* The protocol's minor version. */
#define DJ_MAX_ARGUMENTS                         6                /* The number of arguments of every x86-64 syscall. */

/* ---- §1 Keep image blob (DJNI) ---- */
#define DJ_IMAGE_MAGIC                           0x494E4A44       /* "DJNI" read as a little-endian u32. */
#define DJ_IMAGE_VERSION_MAJOR                   1                /* The image blob's major version. */
#define DJ_IMAGE_VERSION_MINOR                   0                /* The image blob's minor version. */
#define DJ_IMAGE_HEADER_SIZE                     128              /* The size of the image blob header; region descriptors follow it. */
#define DJ_IMAGE_MAX_REGIONS                     64               /* The most regions an image may have. */
#define DJ_IMAGE_MAX_ADDRESS                     0x7FFFFFFFF000   /* Every region ends at or below this address. */
#define DJ_IMAGE_MAGIC_OFFSET                    0x00             /* u32 magic. */
#define DJ_IMAGE_VERSION_MAJOR_OFFSET            0x04             /* u16 major version. */
#define DJ_IMAGE_VERSION_MINOR_OFFSET            0x06             /* u16 minor version. */
#define DJ_IMAGE_HEADER_SIZE_OFFSET              0x08             /* u32 header size. */
#define DJ_IMAGE_REGION_COUNT_OFFSET             0x0C             /* u32 region count. */
#define DJ_IMAGE_BLOB_SIZE_OFFSET                0x10             /* u64 blob size in bytes. */
#define DJ_IMAGE_ENTRY_POINT_OFFSET              0x18             /* u64 absolute entry point. */
#define DJ_IMAGE_STACK_POINTER_OFFSET            0x20             /* u64 initial stack pointer. */
#define DJ_IMAGE_HEAP_BASE_OFFSET                0x28             /* u64 heap (brk) base. */
#define DJ_IMAGE_HEAP_MAX_SIZE_OFFSET            0x30             /* u64 heap maximum size. */
#define DJ_IMAGE_MMAP_BASE_OFFSET                0x38             /* u64 mmap region base. */
#define DJ_IMAGE_MMAP_END_OFFSET                 0x40             /* u64 mmap region end. */
#define DJ_IMAGE_CONFIG_OFFSET_OFFSET            0x48             /* u64 offset of the configuration page in the blob. */
#define DJ_IMAGE_CONFIG_SIZE_OFFSET              0x50             /* u64 size of the configuration page. */
#define DJ_IMAGE_MEMORY_LIMIT_OFFSET             0x58             /* u64 memory limit in bytes. */
#define DJ_IMAGE_RESERVED_OFFSET                 0x60             /* The reserved, zero bytes at the end of the header. */
#define DJ_IMAGE_RESERVED_SIZE                   32               /* The size of the header's reserved bytes. */
#define DJ_IMAGE_REGIONS_OFFSET                  128              /* Where the region descriptors start in the blob. */
#define DJ_REGION_SIZE                           48               /* The size of one region descriptor. */
#define DJ_REGION_ADDRESS_OFFSET                 0x00             /* u64 region address. */
#define DJ_REGION_SIZE_OFFSET                    0x08             /* u64 region size. */
#define DJ_REGION_PERMISSIONS_OFFSET             0x10             /* u32 permissions. */
#define DJ_REGION_KIND_OFFSET                    0x14             /* u32 region kind. */
#define DJ_REGION_DATA_OFFSET_OFFSET             0x18             /* u64 offset of the data inside the region. */
#define DJ_REGION_BLOB_OFFSET_OFFSET             0x20             /* u64 offset of the data inside the blob. */
#define DJ_REGION_DATA_SIZE_OFFSET               0x28             /* u64 data size. */
#define DJ_REGION_PERMISSION_READ                1                /* Region permission bit: read. */
#define DJ_REGION_PERMISSION_WRITE               2                /* Region permission bit: write. */
#define DJ_REGION_PERMISSION_EXECUTE             4                /* Region permission bit: execute. */
#define DJ_REGION_KIND_SEGMENT                   1                /* Region kind: a loadable segment. */
#define DJ_REGION_KIND_STACK                     2                /* Region kind: the initial stack. */

/* ---- §2 Configuration page (DJNC) ---- */
#define DJ_CONFIG_MAGIC                          0x434E4A44       /* "DJNC" read as a little-endian u32. */
#define DJ_CONFIG_VERSION_MAJOR                  1                /* The configuration page's major version. */
#define DJ_CONFIG_VERSION_MINOR                  5                /* The configuration page's minor version (1: the array kinds 7-9; 2: max threads; 3: value-result lengths; 4: cpus, the module digest and the trusted-library manifest's digest, the header grows to 128 bytes; messages, opaque pointers, signal masks, kinds 11-14; 5: selected arguments, kind 15, and the choice table). */
#define DJ_CONFIG_HEADER_SIZE                    128              /* The size of the configuration page header (64 before 1.4). */
#define DJ_CONFIG_MAGIC_OFFSET                   0x00             /* u32 magic. */
#define DJ_CONFIG_VERSION_MAJOR_OFFSET           0x04             /* u16 major version. */
#define DJ_CONFIG_VERSION_MINOR_OFFSET           0x06             /* u16 minor version. */
#define DJ_CONFIG_HEADER_SIZE_OFFSET             0x08             /* u32 header size. */
#define DJ_CONFIG_TABLE_OFFSET_OFFSET            0x0C             /* u32 table offset from the page start. */
#define DJ_CONFIG_ENTRY_COUNT_OFFSET             0x10             /* u32 table entry count. */
#define DJ_CONFIG_ENTRY_SIZE_OFFSET              0x14             /* u32 table entry size. */
#define DJ_CONFIG_MAX_THREADS_OFFSET             0x18             /* u32 the most threads the workload may have at once, 1 to DJ_MAX_THREADS (1.2). */
#define DJ_CONFIG_CPUS_OFFSET                    0x1C             /* u32 the vCPUs the policy grants the keep, 1 to DJ_MAX_CPUS (1.4). */
#define DJ_CONFIG_MODULE_DIGEST_OFFSET           0x20             /* 32 bytes (1.4): SHA-256 of the module an exec layer runs, measured; zero otherwise. The shim does not read it. */
#define DJ_CONFIG_MODULE_DIGEST_SIZE             32               /* The size of the module digest. */
#define DJ_CONFIG_TRUSTED_MANIFEST_OFFSET        0x40             /* 32 bytes: the SHA-256 of the trusted-library manifest the keep runs with, or zero (1.4); measured, read by no shim. */
#define DJ_CONFIG_FLAGS_OFFSET                   0x60             /* u32 keep flags (1.4, was reserved zero): DJ_CONFIG_FLAG_TRACE. */
#define DJ_CONFIG_FLAG_TRACE                     1                /* Keep flag: run --strace; the shims report each call they serve themselves (TRACE items). */
#define DJ_CONFIG_CHOICE_TABLE_OFFSET_OFFSET     0x64             /* u32 choice table offset from the page start (1.5, was reserved zero); 0 when there are none. */
#define DJ_CONFIG_CHOICE_COUNT_OFFSET            0x68             /* u32 choice table entry count (1.5, was reserved zero), at most DJ_CONFIG_MAX_CHOICES. */
#define DJ_CONFIG_TAIL_RESERVED_OFFSET           0x6C             /* The reserved, zero bytes at the end of the header (1.4; from 0x64 before 1.5). */
#define DJ_CONFIG_TAIL_RESERVED_SIZE             20               /* The size of the header's closing reserved bytes. */
#define DJ_CONFIG_CHOICE_SIZE                    8                /* The size of one choice (1.5): u32 selector value, u8 kind, u8 reserved, u16 fixed size. */
#define DJ_CONFIG_CHOICE_SELECTOR_OFFSET         0x00             /* u32 selector value, compared with the selector argument's low 32 bits. */
#define DJ_CONFIG_CHOICE_KIND_OFFSET             0x04             /* u8 kind (0-3) the choice gives the selected argument. */
#define DJ_CONFIG_CHOICE_FIXED_SIZE_OFFSET       0x06             /* u16 fixed size in bytes (0 for a value). */
#define DJ_CONFIG_MAX_CHOICES_PER_ARGUMENT       64               /* The most choices one selected argument may have. */
#define DJ_CONFIG_MAX_CHOICES                    256              /* The most choices a page may have in all. */
#define DJ_CONFIG_ENTRY_FIRST_CHOICE_OFFSET      0x02             /* u16 in an entry (1.5, was reserved): the index of the first choice of its selected argument. */
#define DJ_DEFAULT_MAX_THREADS                   128              /* The max threads a keep gets when the policy names none. */
#define DJ_MAX_THREADS                           1024             /* The most threads (and so slots) any keep may have. */
#define DJ_MAX_CPUS                              8                /* The most vCPUs a policy may grant a keep (and the cap of the default, the host's cores). */
#define DJ_CONFIG_MAX_ENTRIES                    1024             /* The most table entries (syscall numbers 0-1023). */
#define DJ_CONFIG_ENTRY_SIZE                     32               /* The size of one table entry. */
#define DJ_CONFIG_ENTRY_FLAGS_OFFSET             0x00             /* u16 entry flags. */
#define DJ_CONFIG_ENTRY_ARGUMENTS_OFFSET         0x04             /* Where the six argument descriptors of an entry start. */
#define DJ_CONFIG_ARGUMENT_SIZE                  4                /* The size of one argument descriptor in an entry. */
#define DJ_CONFIG_ARGUMENT_KIND_OFFSET           0x00             /* u8 argument kind, inside an argument descriptor. */
#define DJ_CONFIG_ARGUMENT_LENGTH_OFFSET         0x01             /* u8 length argument index, inside an argument descriptor. */
#define DJ_CONFIG_ARGUMENT_FIXED_SIZE_OFFSET     0x02             /* u16 fixed size, inside an argument descriptor. */
#define DJ_CONFIG_ENTRY_RESERVED_OFFSET          0x1C             /* The reserved u32 at the end of an entry. */
#define DJ_CONFIG_FLAG_DECLARED                  1                /* Entry flag: some handler set handles the syscall. */
#define DJ_CONFIG_NO_LENGTH_ARGUMENT             0xFF             /* Length argument index meaning "none". */
#define DJ_CONFIG_MAX_FIXED_SIZE                 0xFFFF           /* The largest fixed size an argument may declare (a u16). */
#define DJ_ARGUMENT_KIND_VALUE                   0                /* Argument kind: a plain value. */
#define DJ_ARGUMENT_KIND_INPUT                   1                /* Argument kind: an input buffer. */
#define DJ_ARGUMENT_KIND_OUTPUT                  2                /* Argument kind: an output buffer. */
#define DJ_ARGUMENT_KIND_IN_OUT                  3                /* Argument kind: an in/out buffer. */
#define DJ_ARGUMENT_KIND_CSTRING                 4                /* Argument kind: a NUL-terminated string. */
#define DJ_ARGUMENT_KIND_INPUT_IOVEC             5                /* Argument kind: an input iovec array. */
#define DJ_ARGUMENT_KIND_OUTPUT_IOVEC            6                /* Argument kind: an output iovec array. */
#define DJ_ARGUMENT_KIND_INPUT_ARRAY             7                /* Argument kind: an input array of count x size bytes (1.1). */
#define DJ_ARGUMENT_KIND_OUTPUT_ARRAY            8                /* Argument kind: an output array of count x size bytes (1.1). */
#define DJ_ARGUMENT_KIND_IN_OUT_ARRAY            9                /* Argument kind: an in/out array of count x size bytes (1.1). */
#define DJ_ARGUMENT_KIND_VALUE_RESULT            10               /* Argument kind: a value-result length (socklen_t *), 4 or 8 bytes in and out; it may size an output buffer (1.3). */
#define DJ_ARGUMENT_KIND_SEND_MESSAGE            11               /* Argument kind: a struct msghdr the call reads (or, with a count argument, a struct mmsghdr array whose msg_len comes back) (1.4). */
#define DJ_ARGUMENT_KIND_RECEIVE_MESSAGE         12               /* Argument kind: a struct msghdr the call fills (or, with a count argument, a struct mmsghdr array) (1.4). */
#define DJ_ARGUMENT_KIND_OPAQUE                  13               /* Argument kind: a pointer that never crosses; its value is sent as 1 (non-NULL) or 0 (1.4). */
#define DJ_ARGUMENT_KIND_SIGNAL_MASK             14               /* Argument kind: a sigset_t the shim applies around the call; sent as 1 or 0 (1.4). */
#define DJ_ARGUMENT_KIND_SELECTED                15               /* Argument kind: a shape another argument picks from the choice table (1.5). */
#define DJ_MAX_MESSAGES                          64               /* The most messages of one sendmmsg/recvmmsg call; the shim lowers a larger count. */
#define DJ_MAX_MESSAGE_NAME_SIZE                 128              /* The most bytes of a message's name (struct sockaddr_storage); a larger msg_namelen is clamped. */
#define DJ_MAX_MESSAGE_CONTROL_SIZE              65536            /* The most bytes of a message's control data: more is -ENOBUFS on send and clamped on receive. */
#define DJ_MESSAGE_HEADER_SIZE                   32               /* The size of a message record's header in the data area. */
#define DJ_MESSAGE_NAME_SIZE_OFFSET              0x00             /* u32 name bytes that follow (send), the name capacity (receive); written back: the name's full length. */
#define DJ_MESSAGE_CONTROL_SIZE_OFFSET           0x04             /* u32 control bytes that follow (send), the control capacity (receive); written back: control bytes written. */
#define DJ_MESSAGE_DATA_SIZE_OFFSET              0x08             /* u32 data bytes that follow (send), the data capacity (receive); written back: data bytes written. */
#define DJ_MESSAGE_FLAGS_OFFSET                  0x0C             /* u32 msg_flags as the workload left it; written back (receive): msg_flags. */
#define DJ_MESSAGE_PRESENCE_OFFSET               0x10             /* u32 bit 0: msg_name is not NULL; bit 1: msg_control is not NULL. */
#define DJ_MESSAGE_IOV_COUNT_OFFSET              0x14             /* u32 the message's msg_iovlen (at most DJ_MAX_IOVEC_COUNT). */
#define DJ_MESSAGE_LENGTH_OFFSET                 0x18             /* u32 written back: msg_len of a struct mmsghdr. */
#define DJ_MESSAGE_RESERVED_OFFSET               0x1C             /* u32 reserved, zero. */
#define DJ_MESSAGE_NAME_PRESENT                  1                /* Presence bit: msg_name is not NULL. */
#define DJ_MESSAGE_CONTROL_PRESENT               2                /* Presence bit: msg_control is not NULL. */
#define DJ_MSGHDR_SIZE                           56               /* sizeof(struct msghdr) on x86-64. */
#define DJ_MMSGHDR_SIZE                          64               /* sizeof(struct mmsghdr) on x86-64. */
#define DJ_SIGSET_PAIR_SIZE                      16               /* pselect6's { const sigset_t *, size_t }: a signal mask of this fixed size is that pair. */
#define DJ_MAX_IOVEC_COUNT                       1024             /* The most elements of an iovec array. */
#define DJ_MAX_ARRAY_COUNT                       1024             /* The most elements of an array (kinds 7-9); more is -EINVAL. */
#define DJ_MAX_CSTRING_SIZE                      4096             /* The most bytes of a C string, its NUL included. */

/* ---- §3 Shared block (DJNB) ---- */
#define DJ_BLOCK_MAGIC                           0x424E4A44       /* "DJNB" read as a little-endian u32. */
#define DJ_BLOCK_VERSION_MAJOR                   2                /* The shared block's major version (2: an array of slots, one per thread). */
#define DJ_BLOCK_VERSION_MINOR                   1                /* The shared block's minor version (1: the sleeping words carry CPU + 1 in their high half). */
#define DJ_BLOCK_HEADER_SIZE                     64               /* The size of a slot's header; the slot's items follow it. */
#define DJ_BLOCK_DEFAULT_SLOT_SIZE               0x101000         /* The default size of one slot: 1 MiB + 4 KiB. */
#define DJ_BLOCK_MIN_SLOT_SIZE                   0x11000          /* The smallest slot a shim accepts: 64 KiB + 4 KiB (a path, a page of data). */
#define DJ_BLOCK_ITEMS_START                     64               /* Where the items start in a slot (the value of the items-offset field). */
#define DJ_BLOCK_MAGIC_OFFSET                    0x00             /* u32 magic. */
#define DJ_BLOCK_VERSION_MAJOR_OFFSET            0x04             /* u16 major version. */
#define DJ_BLOCK_VERSION_MINOR_OFFSET            0x06             /* u16 minor version. */
#define DJ_BLOCK_SLOT_SIZE_OFFSET                0x08             /* u32 slot size: every slot's, a multiple of the page size; slot k starts at k x slot size. */
#define DJ_BLOCK_ITEMS_OFFSET_OFFSET             0x0C             /* u32 items offset. */
#define DJ_BLOCK_ITEMS_CAPACITY_OFFSET           0x10             /* u32 items capacity. */
#define DJ_BLOCK_REQUEST_SIZE_OFFSET             0x14             /* u32 request size (shim). */
#define DJ_BLOCK_DOORBELL_OFFSET                 0x18             /* u32 doorbell, a futex word. */
#define DJ_BLOCK_HOST_SLEEPING_OFFSET            0x1C             /* u32 "host sleeping". */
#define DJ_BLOCK_SHIM_SLEEPING_OFFSET            0x20             /* u32 "shim sleeping". */
#define DJ_BLOCK_REQUEST_SEQUENCE_OFFSET         0x24             /* u32 request sequence number (shim). */
#define DJ_BLOCK_REPLY_SEQUENCE_OFFSET           0x28             /* u32 reply sequence number (host). */
#define DJ_BLOCK_SLOT_COUNT_OFFSET               0x2C             /* u32 the number of slots in the block, the same in every slot's header. */
#define DJ_BLOCK_INTERRUPTING_OFFSET             0x30             /* u64 signals that would interrupt this slot's blocked call (bit n-1: signal n); shim writes. */
#define DJ_BLOCK_SIGNALS_OFFSET                  0x38             /* u64 signals forwarded by the host (bit n-1: signal n); host sets, shim takes; slot 0's only. */
#define DJ_SLEEPING_STATE_MASK                   0xFFFF           /* A sleeping word's low half: its state (0 running, 1 asleep, 2 asleep with one usable CPU). */
#define DJ_SLEEPING_CPU_SHIFT                    16               /* A sleeping word's high half (2.1): the CPU its side last ran on, plus 1; 0 unsaid. */
#define DJ_DOORBELL_IDLE                         0                /* Doorbell value: idle. */
#define DJ_DOORBELL_REQUEST                      1                /* Doorbell value: a request is ready. */
#define DJ_DOORBELL_REPLY                        2                /* Doorbell value: the reply is ready. */

/* ---- Items ---- */
#define DJ_ITEM_HEADER_SIZE                      8                /* The size of every item's {size, kind} header. */
#define DJ_ITEM_ALIGNMENT                        8                /* Item sizes are multiples of this. */
#define DJ_ITEM_SIZE_OFFSET                      0x00             /* u32 item size, header included. */
#define DJ_ITEM_KIND_OFFSET                      0x04             /* u32 item kind. */
#define DJ_ITEM_KIND_SYSCALL                     1                /* Item kind: a syscall. */
#define DJ_ITEM_KIND_EXIT                        2                /* Item kind: the workload exits. */
#define DJ_ITEM_KIND_FAULT                       3                /* Item kind: the workload faulted. */
#define DJ_ITEM_KIND_LOG                         4                /* Item kind: a log line from the shim. */
#define DJ_ITEM_KIND_SLOT_OPEN                   5                /* Item kind: a new thread is about to use another slot (2.0). */
#define DJ_ITEM_KIND_TRACE                       6                /* Item kind: a call the shim served itself, for run --strace (2.0, only when the page's DJ_CONFIG_FLAG_TRACE is set). */
#define DJ_SYSCALL_NUMBER_OFFSET                 0x08             /* u32 syscall number. */
#define DJ_SYSCALL_FLAGS_OFFSET                  0x0C             /* u32 syscall flags. */
#define DJ_SYSCALL_ARGUMENTS_OFFSET              0x10             /* u64[6] argument values. */
#define DJ_SYSCALL_RESULT_OFFSET                 0x40             /* i64 result (host). */
#define DJ_SYSCALL_BUFFERS_OFFSET                0x48             /* {u32 offset, u32 size}[6] buffers. */
#define DJ_SYSCALL_BUFFER_SIZE                   8                /* The size of one {offset, size} buffer descriptor. */
#define DJ_SYSCALL_OUTPUT_SIZES_OFFSET           0x78             /* u32[6] output sizes (host). */
#define DJ_SYSCALL_RESERVED_OFFSET               0x90             /* The reserved u64. */
#define DJ_SYSCALL_FIXED_SIZE                    0x98             /* The size of the fixed part of a syscall item; the data area starts here. */
#define DJ_SYSCALL_FLAG_UNDECLARED               1                /* Syscall flag: the number has no table entry. */
#define DJ_EXIT_ITEM_SIZE                        16               /* The size of an exit item. */
#define DJ_EXIT_STATUS_OFFSET                    0x08             /* i32 exit status. */
#define DJ_FAULT_ITEM_SIZE                       40               /* The size of a fault item. */
#define DJ_FAULT_SIGNAL_OFFSET                   0x08             /* u32 signal. */
#define DJ_FAULT_VECTOR_OFFSET                   0x0C             /* i32 exception vector (-1 in a process keep). */
#define DJ_FAULT_ADDRESS_OFFSET                  0x10             /* u64 faulting address. */
#define DJ_FAULT_INSTRUCTION_POINTER_OFFSET      0x18             /* u64 instruction pointer. */
#define DJ_FAULT_ERROR_CODE_OFFSET               0x20             /* u64 error code or si_code. */
#define DJ_SLOT_OPEN_ITEM_SIZE                   24               /* The size of a slot-open item. */
#define DJ_SLOT_OPEN_SLOT_OFFSET                 0x08             /* u32 the slot the new thread will use, 1 to slot count - 1. */
#define DJ_SLOT_OPEN_THREAD_ID_OFFSET            0x0C             /* u32 the new thread's id inside the keep. */
#define DJ_SLOT_OPEN_RESULT_OFFSET               0x10             /* i64 result (host): 0, or -EAGAIN when the slot cannot be served. */
#define DJ_TRACE_ITEM_SIZE                       72               /* The size of a trace item. */
#define DJ_TRACE_NUMBER_OFFSET                   0x08             /* u32 the syscall number the shim served. */
#define DJ_TRACE_THREAD_ID_OFFSET                0x0C             /* u32 the calling thread's id inside the keep. */
#define DJ_TRACE_ARGUMENTS_OFFSET                0x10             /* u64[6] the call's argument values, as the workload passed them. */
#define DJ_TRACE_RESULT_OFFSET                   0x40             /* i64 the result the shim returned. */
#define DJ_LOG_FIXED_SIZE                        16               /* The size of a log item before its text. */
#define DJ_LOG_LEVEL_OFFSET                      0x08             /* u32 log level. */
#define DJ_LOG_LENGTH_OFFSET                     0x0C             /* u32 text length. */
#define DJ_LOG_TEXT_OFFSET                       0x10             /* The text bytes. */
#define DJ_LOG_LEVEL_DEBUG                       0                /* Log level: debug (the lowest). */
#define DJ_LOG_LEVEL_ERROR                       4                /* Log level: error (the highest). */

/* ---- §4 Shim identification ---- */
#define DJ_NOTE_NAME                             "Donjon"         /* The name of the shim's ELF note. */
#define DJ_NOTE_TYPE                             1                /* The type of the shim's ELF note. */
#define DJ_NOTE_DESCRIPTOR_SIZE                  8                /* The size of the note's descriptor {u16 major, u16 minor, u32 reserved}. */

/* ---- §5 Process keep ---- */
#define DJ_SHIM_IMAGE_DESCRIPTOR                 3                /* The shim's descriptor for the image blob. */
#define DJ_SHIM_BLOCK_DESCRIPTOR                 4                /* The shim's descriptor for the shared block. */
#define DJ_SHIM_EXIT_BAD_ARGUMENTS               120              /* Shim exit status: bad arguments or descriptors. */
#define DJ_SHIM_EXIT_BAD_IMAGE                   121              /* Shim exit status: bad image blob. */
#define DJ_SHIM_EXIT_BAD_BLOCK                   122              /* Shim exit status: bad block. */
#define DJ_SHIM_EXIT_MAP_FAILED                  123              /* Shim exit status: a mapping failed. */
#define DJ_SHIM_EXIT_SECCOMP_FAILED              124              /* Shim exit status: the seccomp filter could not be installed. */
