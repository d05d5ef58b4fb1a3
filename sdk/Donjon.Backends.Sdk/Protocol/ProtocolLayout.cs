namespace Donjon.Backends.Sdk.Protocol;

/// <summary>
/// Every offset, size, magic number, version and kind of the host ↔ shim protocol (<c>docs/protocol.md</c>).
/// The shim takes the same values from <c>asm/include/protocol.h</c>; <c>ProtocolLayoutTests</c> keeps the two equal.
/// </summary>
/// <remarks>
/// Names ending in <c>Offset</c> are byte offsets of a field inside its structure; the others are values.
/// All integers in the protocol are little-endian.
/// </remarks>
public static class ProtocolLayout
{
    // ---- Common -------------------------------------------------------------------------------------------

    /// <summary>The page size of every keep.</summary>
    public const int PageSize = 4096;

    /// <summary>The protocol's major version; a shim with another major version is refused.</summary>
    public const int VersionMajor = 2;

    /// <summary>The protocol's minor version.</summary>
    public const int VersionMinor = 0;

    /// <summary>The number of arguments of every x86-64 syscall.</summary>
    public const int MaxArguments = 6;

    // ---- §1 Keep image blob (DJNI) -------------------------------------------------------------------------

    /// <summary>"DJNI" read as a little-endian u32.</summary>
    public const uint ImageMagic = 0x494E4A44;

    /// <summary>The image blob's major version.</summary>
    public const int ImageVersionMajor = 1;

    /// <summary>The image blob's minor version.</summary>
    public const int ImageVersionMinor = 0;

    /// <summary>The size of the image blob header; region descriptors follow it.</summary>
    public const int ImageHeaderSize = 128;

    /// <summary>The most regions an image may have.</summary>
    public const int ImageMaxRegions = 64;

    /// <summary>Every region ends at or below this address.</summary>
    public const ulong ImageMaxAddress = 0x7FFF_FFFF_F000;

    /// <summary>u32 magic.</summary>
    public const int ImageMagicOffset = 0x00;

    /// <summary>u16 major version.</summary>
    public const int ImageVersionMajorOffset = 0x04;

    /// <summary>u16 minor version.</summary>
    public const int ImageVersionMinorOffset = 0x06;

    /// <summary>u32 header size.</summary>
    public const int ImageHeaderSizeOffset = 0x08;

    /// <summary>u32 region count.</summary>
    public const int ImageRegionCountOffset = 0x0C;

    /// <summary>u64 blob size in bytes.</summary>
    public const int ImageBlobSizeOffset = 0x10;

    /// <summary>u64 absolute entry point.</summary>
    public const int ImageEntryPointOffset = 0x18;

    /// <summary>u64 initial stack pointer.</summary>
    public const int ImageStackPointerOffset = 0x20;

    /// <summary>u64 heap (brk) base.</summary>
    public const int ImageHeapBaseOffset = 0x28;

    /// <summary>u64 heap maximum size.</summary>
    public const int ImageHeapMaxSizeOffset = 0x30;

    /// <summary>u64 mmap region base.</summary>
    public const int ImageMmapBaseOffset = 0x38;

    /// <summary>u64 mmap region end.</summary>
    public const int ImageMmapEndOffset = 0x40;

    /// <summary>u64 offset of the configuration page in the blob.</summary>
    public const int ImageConfigOffsetOffset = 0x48;

    /// <summary>u64 size of the configuration page.</summary>
    public const int ImageConfigSizeOffset = 0x50;

    /// <summary>u64 memory limit in bytes.</summary>
    public const int ImageMemoryLimitOffset = 0x58;

    /// <summary>The reserved, zero bytes at the end of the header.</summary>
    public const int ImageReservedOffset = 0x60;

    /// <summary>The size of the header's reserved bytes.</summary>
    public const int ImageReservedSize = 32;

    /// <summary>Where the region descriptors start in the blob.</summary>
    public const int ImageRegionsOffset = ImageHeaderSize;

    /// <summary>The size of one region descriptor.</summary>
    public const int RegionSize = 48;

    /// <summary>u64 region address.</summary>
    public const int RegionAddressOffset = 0x00;

    /// <summary>u64 region size.</summary>
    public const int RegionSizeOffset = 0x08;

    /// <summary>u32 permissions.</summary>
    public const int RegionPermissionsOffset = 0x10;

    /// <summary>u32 region kind.</summary>
    public const int RegionKindOffset = 0x14;

    /// <summary>u64 offset of the data inside the region.</summary>
    public const int RegionDataOffsetOffset = 0x18;

    /// <summary>u64 offset of the data inside the blob.</summary>
    public const int RegionBlobOffsetOffset = 0x20;

    /// <summary>u64 data size.</summary>
    public const int RegionDataSizeOffset = 0x28;

    /// <summary>Region permission bit: read.</summary>
    public const uint RegionPermissionRead = 1;

    /// <summary>Region permission bit: write.</summary>
    public const uint RegionPermissionWrite = 2;

    /// <summary>Region permission bit: execute.</summary>
    public const uint RegionPermissionExecute = 4;

    /// <summary>Region kind: a loadable segment.</summary>
    public const uint RegionKindSegment = 1;

    /// <summary>Region kind: the initial stack.</summary>
    public const uint RegionKindStack = 2;

    // ---- §2 Configuration page (DJNC) ----------------------------------------------------------------------

    /// <summary>"DJNC" read as a little-endian u32.</summary>
    public const uint ConfigMagic = 0x434E4A44;

    /// <summary>The configuration page's major version.</summary>
    public const int ConfigVersionMajor = 1;

    /// <summary>The configuration page's minor version (1: the array kinds 7-9; 2: max threads; 3: value-result lengths; 4: cpus, the module digest and the trusted-library manifest's digest; the header grows to 128 bytes; messages, opaque pointers, signal masks, kinds 11-14).</summary>
    public const int ConfigVersionMinor = 5;

    /// <summary>The size of the configuration page header.</summary>
    public const int ConfigHeaderSize = 128;

    /// <summary>u32 magic.</summary>
    public const int ConfigMagicOffset = 0x00;

    /// <summary>u16 major version.</summary>
    public const int ConfigVersionMajorOffset = 0x04;

    /// <summary>u16 minor version.</summary>
    public const int ConfigVersionMinorOffset = 0x06;

    /// <summary>u32 header size.</summary>
    public const int ConfigHeaderSizeOffset = 0x08;

    /// <summary>u32 table offset from the page start.</summary>
    public const int ConfigTableOffsetOffset = 0x0C;

    /// <summary>u32 table entry count.</summary>
    public const int ConfigEntryCountOffset = 0x10;

    /// <summary>u32 table entry size.</summary>
    public const int ConfigEntrySizeOffset = 0x14;

    /// <summary>u32 the most threads the workload may have at once, 1 to <see cref="MaxThreads"/> (1.2).</summary>
    public const int ConfigMaxThreadsOffset = 0x18;

    /// <summary>u32 the vCPUs the policy grants the keep, 1 to <see cref="MaxCpus"/> (1.4).</summary>
    public const int ConfigCpusOffset = 0x1C;

    /// <summary>
    /// 32 bytes (1.4): the SHA-256 of the module an exec layer runs (a WebAssembly module, docs/wasm.md), so that the
    /// measurement binds it; zero for a program that is its own workload.
    /// </summary>
    public const int ConfigModuleDigestOffset = 0x20;

    /// <summary>The size of the module digest: a SHA-256.</summary>
    public const int ConfigModuleDigestSize = 32;

    /// <summary>32 bytes: the SHA-256 of the trusted-library manifest the keep runs with, or zero (1.4); measured, read by no shim.</summary>
    public const int ConfigTrustedManifestOffset = 0x40;

    /// <summary>u32 keep flags (1.4, reserved zero before): <see cref="ConfigFlagTrace"/>.</summary>
    public const int ConfigFlagsOffset = 0x60;

    /// <summary>Keep flag: <c>run --strace</c>; the shims report each call they serve themselves in a trace item.</summary>
    public const uint ConfigFlagTrace = 1;

    /// <summary>u32 choice table offset from the page start (1.5, was reserved zero): the shapes of the selected arguments; 0 when there are none.</summary>
    public const int ConfigChoiceTableOffsetOffset = 0x64;

    /// <summary>u32 choice table entry count (1.5, was reserved zero), at most <see cref="ConfigMaxChoices"/>.</summary>
    public const int ConfigChoiceCountOffset = 0x68;

    /// <summary>The reserved, zero bytes at the end of the header (1.4; from 0x64 before 1.5).</summary>
    public const int ConfigTailReservedOffset = 0x6C;

    /// <summary>The size of the header's closing reserved bytes.</summary>
    public const int ConfigTailReservedSize = 20;

    /// <summary>The size of one choice table entry (1.5): u32 selector value, u8 kind, u8 reserved, u16 fixed size.</summary>
    public const int ConfigChoiceSize = 8;

    /// <summary>u32 selector value (compared with the selector argument's low 32 bits), inside a choice.</summary>
    public const int ConfigChoiceSelectorOffset = 0x00;

    /// <summary>u8 kind (0-3) the choice gives the selected argument, inside a choice.</summary>
    public const int ConfigChoiceKindOffset = 0x04;

    /// <summary>u16 fixed size in bytes (0 for a value), inside a choice.</summary>
    public const int ConfigChoiceFixedSizeOffset = 0x06;

    /// <summary>The most choices one selected argument may have.</summary>
    public const int ConfigMaxChoicesPerArgument = 64;

    /// <summary>The most choices a page may have in all.</summary>
    public const int ConfigMaxChoices = 256;

    /// <summary>u16 in an entry (1.5, was reserved): the index of the first choice of the entry's selected argument.</summary>
    public const int ConfigEntryFirstChoiceOffset = 0x02;

    /// <summary>The max threads a keep gets when the policy names none.</summary>
    public const int DefaultMaxThreads = 128;

    /// <summary>The most threads (and so slots) any keep may have.</summary>
    public const int MaxThreads = 1024;

    /// <summary>The most vCPUs a policy may grant a keep (and the cap of the default, the host's cores).</summary>
    public const int MaxCpus = 8;

    /// <summary>The most table entries (syscall numbers 0-1023).</summary>
    public const int ConfigMaxEntries = 1024;

    /// <summary>The size of one table entry.</summary>
    public const int ConfigEntrySize = 32;

    /// <summary>u16 entry flags.</summary>
    public const int ConfigEntryFlagsOffset = 0x00;

    /// <summary>Where the six argument descriptors of an entry start.</summary>
    public const int ConfigEntryArgumentsOffset = 0x04;

    /// <summary>The size of one argument descriptor in an entry.</summary>
    public const int ConfigArgumentSize = 4;

    /// <summary>u8 argument kind, inside an argument descriptor.</summary>
    public const int ConfigArgumentKindOffset = 0x00;

    /// <summary>u8 length argument index, inside an argument descriptor.</summary>
    public const int ConfigArgumentLengthOffset = 0x01;

    /// <summary>u16 fixed size, inside an argument descriptor.</summary>
    public const int ConfigArgumentFixedSizeOffset = 0x02;

    /// <summary>The reserved u32 at the end of an entry.</summary>
    public const int ConfigEntryReservedOffset = 0x1C;

    /// <summary>Entry flag: some handler set handles the syscall.</summary>
    public const int ConfigFlagDeclared = 1;

    /// <summary>Length argument index meaning "none".</summary>
    public const int ConfigNoLengthArgument = 0xFF;

    /// <summary>The largest fixed size an argument may declare (a u16).</summary>
    public const int ConfigMaxFixedSize = 0xFFFF;

    /// <summary>Argument kind: a plain value.</summary>
    public const int ArgumentKindValue = 0;

    /// <summary>Argument kind: an input buffer.</summary>
    public const int ArgumentKindInput = 1;

    /// <summary>Argument kind: an output buffer.</summary>
    public const int ArgumentKindOutput = 2;

    /// <summary>Argument kind: an in/out buffer.</summary>
    public const int ArgumentKindInOut = 3;

    /// <summary>Argument kind: a NUL-terminated string.</summary>
    public const int ArgumentKindCString = 4;

    /// <summary>Argument kind: an input iovec array.</summary>
    public const int ArgumentKindInputIovec = 5;

    /// <summary>Argument kind: an output iovec array.</summary>
    public const int ArgumentKindOutputIovec = 6;

    /// <summary>Argument kind: an input array of count × size bytes (1.1).</summary>
    public const int ArgumentKindInputArray = 7;

    /// <summary>Argument kind: an output array of count × size bytes (1.1).</summary>
    public const int ArgumentKindOutputArray = 8;

    /// <summary>Argument kind: an in/out array of count × size bytes (1.1).</summary>
    public const int ArgumentKindInOutArray = 9;

    /// <summary>Argument kind: a value-result length (<c>socklen_t *</c>), 4 or 8 bytes in and out; it may size an output buffer (1.3).</summary>
    public const int ArgumentKindValueResult = 10;

    /// <summary>Argument kind: a <c>struct msghdr</c> the call reads, or a <c>struct mmsghdr</c> array (1.4).</summary>
    public const int ArgumentKindSendMessage = 11;

    /// <summary>Argument kind: a <c>struct msghdr</c> the call fills, or a <c>struct mmsghdr</c> array (1.4).</summary>
    public const int ArgumentKindReceiveMessage = 12;

    /// <summary>Argument kind: a pointer that never crosses, sent as 1 or 0 (1.4).</summary>
    public const int ArgumentKindOpaque = 13;

    /// <summary>Argument kind: a signal mask the shim applies around the call, sent as 1 or 0 (1.4).</summary>
    public const int ArgumentKindSignalMask = 14;

    /// <summary>Argument kind: a shape another argument picks from the choice table (1.5).</summary>
    public const int ArgumentKindSelected = 15;

    /// <summary>The most messages of one <c>sendmmsg</c>/<c>recvmmsg</c> call; the shim lowers a larger count.</summary>
    public const int MaxMessages = 64;

    /// <summary>The most bytes of a message name.</summary>
    public const int MaxMessageNameSize = 128;

    /// <summary>The most bytes of a message's control data.</summary>
    public const int MaxMessageControlSize = 65536;

    /// <summary>The size of a message record's header.</summary>
    public const int MessageHeaderSize = 32;

    /// <summary>u32 name bytes (send) or capacity (receive); written back: the full name length.</summary>
    public const int MessageNameSizeOffset = 0;

    /// <summary>u32 control bytes or capacity; written back: control bytes written.</summary>
    public const int MessageControlSizeOffset = 4;

    /// <summary>u32 data bytes or capacity; written back: data bytes written.</summary>
    public const int MessageDataSizeOffset = 8;

    /// <summary>u32 <c>msg_flags</c>; written back on receive.</summary>
    public const int MessageFlagsOffset = 12;

    /// <summary>u32 presence bits: name, control.</summary>
    public const int MessagePresenceOffset = 16;

    /// <summary>u32 the message's <c>msg_iovlen</c>.</summary>
    public const int MessageIovCountOffset = 20;

    /// <summary>u32 written back: <c>msg_len</c> of a <c>struct mmsghdr</c>.</summary>
    public const int MessageLengthOffset = 24;

    /// <summary>u32 reserved, zero.</summary>
    public const int MessageReservedOffset = 28;

    /// <summary>Presence bit: <c>msg_name</c> is not NULL.</summary>
    public const int MessageNamePresent = 1;

    /// <summary>Presence bit: <c>msg_control</c> is not NULL.</summary>
    public const int MessageControlPresent = 2;

    /// <summary><c>sizeof(struct msghdr)</c> on x86-64.</summary>
    public const int MsghdrSize = 56;

    /// <summary><c>sizeof(struct mmsghdr)</c> on x86-64.</summary>
    public const int MmsghdrSize = 64;

    /// <summary><c>pselect6</c>'s <c>{ sigset_t *, size_t }</c> pair: the fixed size of a signal mask that is that pair.</summary>
    public const int SigsetPairSize = 16;

    /// <summary>The most elements of an iovec array.</summary>
    public const int MaxIovecCount = 1024;

    /// <summary>The most elements of an array (kinds 7-9); the shim answers a larger count with <c>-EINVAL</c>.</summary>
    public const int MaxArrayCount = 1024;

    /// <summary>The most bytes of a C string, its NUL included.</summary>
    public const int MaxCStringSize = 4096;

    // ---- §3 Shared block (DJNB) ----------------------------------------------------------------------------

    /// <summary>"DJNB" read as a little-endian u32.</summary>
    public const uint BlockMagic = 0x424E4A44;

    /// <summary>The shared block's major version (2: an array of slots, one per thread).</summary>
    public const int BlockVersionMajor = 2;

    /// <summary>The shared block's minor version (1: the sleeping words carry CPU + 1 in their high half).</summary>
    public const int BlockVersionMinor = 1;

    /// <summary>The size of a slot's header; the slot's items follow it.</summary>
    public const int BlockHeaderSize = 64;

    /// <summary>The default size of one slot: 1 MiB + 4 KiB.</summary>
    public const int BlockDefaultSlotSize = (1024 * 1024) + 4096;

    /// <summary>The smallest slot a shim accepts: 64 KiB + 4 KiB (a path, a page of data).</summary>
    public const int BlockMinSlotSize = (64 * 1024) + 4096;

    /// <summary>Where the items start in a slot (the value of the items-offset field).</summary>
    public const int BlockItemsStart = 64;

    /// <summary>u32 magic.</summary>
    public const int BlockMagicOffset = 0x00;

    /// <summary>u16 major version.</summary>
    public const int BlockVersionMajorOffset = 0x04;

    /// <summary>u16 minor version.</summary>
    public const int BlockVersionMinorOffset = 0x06;

    /// <summary>u32 slot size: every slot's, a multiple of the page size; slot k starts at k x slot size.</summary>
    public const int BlockSlotSizeOffset = 0x08;

    /// <summary>u32 items offset.</summary>
    public const int BlockItemsOffsetOffset = 0x0C;

    /// <summary>u32 items capacity.</summary>
    public const int BlockItemsCapacityOffset = 0x10;

    /// <summary>u32 request size (shim).</summary>
    public const int BlockRequestSizeOffset = 0x14;

    /// <summary>u32 doorbell, a futex word.</summary>
    public const int BlockDoorbellOffset = 0x18;

    /// <summary>u32 "host sleeping".</summary>
    public const int BlockHostSleepingOffset = 0x1C;

    /// <summary>u32 "shim sleeping".</summary>
    public const int BlockShimSleepingOffset = 0x20;

    /// <summary>A sleeping word's low half: its state (0 running, 1 asleep, 2 asleep with one usable CPU).</summary>
    public const int SleepingStateMask = 0xFFFF;

    /// <summary>A sleeping word's high half (2.1): the CPU its side last ran on, plus 1; 0 unsaid.</summary>
    public const int SleepingCpuShift = 16;

    /// <summary>u32 request sequence number (shim).</summary>
    public const int BlockRequestSequenceOffset = 0x24;

    /// <summary>u32 reply sequence number (host).</summary>
    public const int BlockReplySequenceOffset = 0x28;

    /// <summary>u32 the number of slots in the block, the same in every slot's header.</summary>
    public const int BlockSlotCountOffset = 0x2C;

    /// <summary>u64 the signals that would interrupt this slot's blocked call (their action is a handler, or a default that ends the workload), bit n-1 for signal n: the shim writes it; untrusted.</summary>
    public const int BlockInterruptingOffset = 0x30;

    /// <summary>u64 signals forwarded by the host to the workload, bit n-1 for signal n: the host sets bits, the shim takes them all at once; slot 0's only.</summary>
    public const int BlockSignalsOffset = 0x38;

    /// <summary>Doorbell value: idle.</summary>
    public const uint DoorbellIdle = 0;

    /// <summary>Doorbell value: a request is ready.</summary>
    public const uint DoorbellRequest = 1;

    /// <summary>Doorbell value: the reply is ready.</summary>
    public const uint DoorbellReply = 2;

    // ---- Items ---------------------------------------------------------------------------------------------

    /// <summary>The size of every item's {size, kind} header.</summary>
    public const int ItemHeaderSize = 8;

    /// <summary>Item sizes are multiples of this.</summary>
    public const int ItemAlignment = 8;

    /// <summary>u32 item size, header included.</summary>
    public const int ItemSizeOffset = 0x00;

    /// <summary>u32 item kind.</summary>
    public const int ItemKindOffset = 0x04;

    /// <summary>Item kind: a syscall.</summary>
    public const uint ItemKindSyscall = 1;

    /// <summary>Item kind: the workload exits.</summary>
    public const uint ItemKindExit = 2;

    /// <summary>Item kind: the workload faulted.</summary>
    public const uint ItemKindFault = 3;

    /// <summary>Item kind: a log line from the shim.</summary>
    public const uint ItemKindLog = 4;

    /// <summary>Item kind: a new thread is about to use another slot (2.0).</summary>
    public const uint ItemKindSlotOpen = 5;

    /// <summary>Item kind: a call the shim served itself, for <c>run --strace</c> (only when the page sets <see cref="ConfigFlagTrace"/>).</summary>
    public const uint ItemKindTrace = 6;

    /// <summary>u32 syscall number.</summary>
    public const int SyscallNumberOffset = 0x08;

    /// <summary>u32 syscall flags.</summary>
    public const int SyscallFlagsOffset = 0x0C;

    /// <summary>u64[6] argument values.</summary>
    public const int SyscallArgumentsOffset = 0x10;

    /// <summary>i64 result (host).</summary>
    public const int SyscallResultOffset = 0x40;

    /// <summary>{u32 offset, u32 size}[6] buffers.</summary>
    public const int SyscallBuffersOffset = 0x48;

    /// <summary>The size of one {offset, size} buffer descriptor.</summary>
    public const int SyscallBufferSize = 8;

    /// <summary>u32[6] output sizes (host).</summary>
    public const int SyscallOutputSizesOffset = 0x78;

    /// <summary>The reserved u64.</summary>
    public const int SyscallReservedOffset = 0x90;

    /// <summary>The size of the fixed part of a syscall item; the data area starts here.</summary>
    public const int SyscallFixedSize = 0x98;

    /// <summary>Syscall flag: the number has no table entry.</summary>
    public const uint SyscallFlagUndeclared = 1;

    /// <summary>The size of an exit item.</summary>
    public const int ExitItemSize = 16;

    /// <summary>i32 exit status.</summary>
    public const int ExitStatusOffset = 0x08;

    /// <summary>The size of a fault item.</summary>
    public const int FaultItemSize = 40;

    /// <summary>u32 signal.</summary>
    public const int FaultSignalOffset = 0x08;

    /// <summary>i32 exception vector (-1 in a process keep).</summary>
    public const int FaultVectorOffset = 0x0C;

    /// <summary>u64 faulting address.</summary>
    public const int FaultAddressOffset = 0x10;

    /// <summary>u64 instruction pointer.</summary>
    public const int FaultInstructionPointerOffset = 0x18;

    /// <summary>u64 error code or si_code.</summary>
    public const int FaultErrorCodeOffset = 0x20;

    /// <summary>The size of a slot-open item.</summary>
    public const int SlotOpenItemSize = 24;

    /// <summary>u32 the slot the new thread will use, 1 to slot count - 1.</summary>
    public const int SlotOpenSlotOffset = 0x08;

    /// <summary>u32 the new thread's id inside the keep.</summary>
    public const int SlotOpenThreadIdOffset = 0x0C;

    /// <summary>i64 result (host): 0, or -EAGAIN when the slot cannot be served.</summary>
    public const int SlotOpenResultOffset = 0x10;

    /// <summary>The size of a trace item.</summary>
    public const int TraceItemSize = 72;

    /// <summary>u32 the syscall number the shim served.</summary>
    public const int TraceNumberOffset = 0x08;

    /// <summary>u32 the calling thread's id inside the keep.</summary>
    public const int TraceThreadIdOffset = 0x0C;

    /// <summary>u64[6] the call's argument values, as the workload passed them.</summary>
    public const int TraceArgumentsOffset = 0x10;

    /// <summary>i64 the result the shim returned.</summary>
    public const int TraceResultOffset = 0x40;

    /// <summary>The size of a log item before its text.</summary>
    public const int LogFixedSize = 16;

    /// <summary>u32 log level.</summary>
    public const int LogLevelOffset = 0x08;

    /// <summary>u32 text length.</summary>
    public const int LogLengthOffset = 0x0C;

    /// <summary>The text bytes.</summary>
    public const int LogTextOffset = 0x10;

    /// <summary>Log level: debug (the lowest).</summary>
    public const int LogLevelDebug = 0;

    /// <summary>Log level: error (the highest).</summary>
    public const int LogLevelError = 4;

    // ---- §4 Shim identification ----------------------------------------------------------------------------

    /// <summary>The name of the shim's ELF note.</summary>
    public const string NoteName = "Donjon";

    /// <summary>The type of the shim's ELF note.</summary>
    public const int NoteType = 1;

    /// <summary>The size of the note's descriptor {u16 major, u16 minor, u32 reserved}.</summary>
    public const int NoteDescriptorSize = 8;

    // ---- §5 Process keep -----------------------------------------------------------------------------------

    /// <summary>The shim's descriptor for the image blob.</summary>
    public const int ShimImageDescriptor = 3;

    /// <summary>The shim's descriptor for the shared block.</summary>
    public const int ShimBlockDescriptor = 4;

    /// <summary>Shim exit status: bad arguments or descriptors.</summary>
    public const int ShimExitBadArguments = 120;

    /// <summary>Shim exit status: bad image blob.</summary>
    public const int ShimExitBadImage = 121;

    /// <summary>Shim exit status: bad block.</summary>
    public const int ShimExitBadBlock = 122;

    /// <summary>Shim exit status: a mapping failed.</summary>
    public const int ShimExitMapFailed = 123;

    /// <summary>Shim exit status: the seccomp filter could not be installed.</summary>
    public const int ShimExitSeccompFailed = 124;
}
