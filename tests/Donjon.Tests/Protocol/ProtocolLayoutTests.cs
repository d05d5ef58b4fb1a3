using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Donjon.Backends.Sdk.Protocol;
using Donjon.Host.Protocol;

namespace Donjon.Tests.Protocol;

/// <summary>
/// Keeps <see cref="ProtocolLayout"/> equal to <c>asm/include/protocol.h</c>, the one source the shims take their
/// offsets from (docs/protocol.md).
/// </summary>
public sealed partial class ProtocolLayoutTests
{
    /// <summary>Each C# constant of <see cref="ProtocolLayout"/> and the <c>#define</c> of the same meaning.</summary>
    private static readonly IReadOnlyDictionary<string, string> CSharpToHeader = new Dictionary<string, string>
    {
        ["PageSize"] = "DJ_PAGE_SIZE",
        ["VersionMajor"] = "DJ_VERSION_MAJOR",
        ["VersionMinor"] = "DJ_VERSION_MINOR",
        ["MaxArguments"] = "DJ_MAX_ARGUMENTS",
        ["ImageMagic"] = "DJ_IMAGE_MAGIC",
        ["ImageVersionMajor"] = "DJ_IMAGE_VERSION_MAJOR",
        ["ImageVersionMinor"] = "DJ_IMAGE_VERSION_MINOR",
        ["ImageHeaderSize"] = "DJ_IMAGE_HEADER_SIZE",
        ["ImageMaxRegions"] = "DJ_IMAGE_MAX_REGIONS",
        ["ImageMaxAddress"] = "DJ_IMAGE_MAX_ADDRESS",
        ["ImageMagicOffset"] = "DJ_IMAGE_MAGIC_OFFSET",
        ["ImageVersionMajorOffset"] = "DJ_IMAGE_VERSION_MAJOR_OFFSET",
        ["ImageVersionMinorOffset"] = "DJ_IMAGE_VERSION_MINOR_OFFSET",
        ["ImageHeaderSizeOffset"] = "DJ_IMAGE_HEADER_SIZE_OFFSET",
        ["ImageRegionCountOffset"] = "DJ_IMAGE_REGION_COUNT_OFFSET",
        ["ImageBlobSizeOffset"] = "DJ_IMAGE_BLOB_SIZE_OFFSET",
        ["ImageEntryPointOffset"] = "DJ_IMAGE_ENTRY_POINT_OFFSET",
        ["ImageStackPointerOffset"] = "DJ_IMAGE_STACK_POINTER_OFFSET",
        ["ImageHeapBaseOffset"] = "DJ_IMAGE_HEAP_BASE_OFFSET",
        ["ImageHeapMaxSizeOffset"] = "DJ_IMAGE_HEAP_MAX_SIZE_OFFSET",
        ["ImageMmapBaseOffset"] = "DJ_IMAGE_MMAP_BASE_OFFSET",
        ["ImageMmapEndOffset"] = "DJ_IMAGE_MMAP_END_OFFSET",
        ["ImageConfigOffsetOffset"] = "DJ_IMAGE_CONFIG_OFFSET_OFFSET",
        ["ImageConfigSizeOffset"] = "DJ_IMAGE_CONFIG_SIZE_OFFSET",
        ["ImageMemoryLimitOffset"] = "DJ_IMAGE_MEMORY_LIMIT_OFFSET",
        ["ImageReservedOffset"] = "DJ_IMAGE_RESERVED_OFFSET",
        ["ImageReservedSize"] = "DJ_IMAGE_RESERVED_SIZE",
        ["ImageRegionsOffset"] = "DJ_IMAGE_REGIONS_OFFSET",
        ["RegionSize"] = "DJ_REGION_SIZE",
        ["RegionAddressOffset"] = "DJ_REGION_ADDRESS_OFFSET",
        ["RegionSizeOffset"] = "DJ_REGION_SIZE_OFFSET",
        ["RegionPermissionsOffset"] = "DJ_REGION_PERMISSIONS_OFFSET",
        ["RegionKindOffset"] = "DJ_REGION_KIND_OFFSET",
        ["RegionDataOffsetOffset"] = "DJ_REGION_DATA_OFFSET_OFFSET",
        ["RegionBlobOffsetOffset"] = "DJ_REGION_BLOB_OFFSET_OFFSET",
        ["RegionDataSizeOffset"] = "DJ_REGION_DATA_SIZE_OFFSET",
        ["RegionPermissionRead"] = "DJ_REGION_PERMISSION_READ",
        ["RegionPermissionWrite"] = "DJ_REGION_PERMISSION_WRITE",
        ["RegionPermissionExecute"] = "DJ_REGION_PERMISSION_EXECUTE",
        ["RegionKindSegment"] = "DJ_REGION_KIND_SEGMENT",
        ["RegionKindStack"] = "DJ_REGION_KIND_STACK",
        ["ConfigMagic"] = "DJ_CONFIG_MAGIC",
        ["ConfigVersionMajor"] = "DJ_CONFIG_VERSION_MAJOR",
        ["ConfigVersionMinor"] = "DJ_CONFIG_VERSION_MINOR",
        ["ConfigHeaderSize"] = "DJ_CONFIG_HEADER_SIZE",
        ["ConfigMagicOffset"] = "DJ_CONFIG_MAGIC_OFFSET",
        ["ConfigVersionMajorOffset"] = "DJ_CONFIG_VERSION_MAJOR_OFFSET",
        ["ConfigVersionMinorOffset"] = "DJ_CONFIG_VERSION_MINOR_OFFSET",
        ["ConfigHeaderSizeOffset"] = "DJ_CONFIG_HEADER_SIZE_OFFSET",
        ["ConfigTableOffsetOffset"] = "DJ_CONFIG_TABLE_OFFSET_OFFSET",
        ["ConfigEntryCountOffset"] = "DJ_CONFIG_ENTRY_COUNT_OFFSET",
        ["ConfigEntrySizeOffset"] = "DJ_CONFIG_ENTRY_SIZE_OFFSET",
        ["ConfigMaxThreadsOffset"] = "DJ_CONFIG_MAX_THREADS_OFFSET",
        ["ConfigTrustedManifestOffset"] = "DJ_CONFIG_TRUSTED_MANIFEST_OFFSET",
        ["ConfigCpusOffset"] = "DJ_CONFIG_CPUS_OFFSET",
        ["ConfigModuleDigestOffset"] = "DJ_CONFIG_MODULE_DIGEST_OFFSET",
        ["ConfigModuleDigestSize"] = "DJ_CONFIG_MODULE_DIGEST_SIZE",
        ["ConfigFlagsOffset"] = "DJ_CONFIG_FLAGS_OFFSET",
        ["ConfigFlagTrace"] = "DJ_CONFIG_FLAG_TRACE",
        ["ConfigTailReservedOffset"] = "DJ_CONFIG_TAIL_RESERVED_OFFSET",
        ["ConfigTailReservedSize"] = "DJ_CONFIG_TAIL_RESERVED_SIZE",
        ["ConfigMaxEntries"] = "DJ_CONFIG_MAX_ENTRIES",
        ["DefaultMaxThreads"] = "DJ_DEFAULT_MAX_THREADS",
        ["MaxThreads"] = "DJ_MAX_THREADS",
        ["MaxCpus"] = "DJ_MAX_CPUS",
        ["ConfigEntrySize"] = "DJ_CONFIG_ENTRY_SIZE",
        ["ConfigEntryFlagsOffset"] = "DJ_CONFIG_ENTRY_FLAGS_OFFSET",
        ["ConfigEntryArgumentsOffset"] = "DJ_CONFIG_ENTRY_ARGUMENTS_OFFSET",
        ["ConfigArgumentSize"] = "DJ_CONFIG_ARGUMENT_SIZE",
        ["ConfigArgumentKindOffset"] = "DJ_CONFIG_ARGUMENT_KIND_OFFSET",
        ["ConfigArgumentLengthOffset"] = "DJ_CONFIG_ARGUMENT_LENGTH_OFFSET",
        ["ConfigArgumentFixedSizeOffset"] = "DJ_CONFIG_ARGUMENT_FIXED_SIZE_OFFSET",
        ["ConfigEntryReservedOffset"] = "DJ_CONFIG_ENTRY_RESERVED_OFFSET",
        ["ConfigFlagDeclared"] = "DJ_CONFIG_FLAG_DECLARED",
        ["ConfigNoLengthArgument"] = "DJ_CONFIG_NO_LENGTH_ARGUMENT",
        ["ConfigMaxFixedSize"] = "DJ_CONFIG_MAX_FIXED_SIZE",
        ["ArgumentKindValue"] = "DJ_ARGUMENT_KIND_VALUE",
        ["ArgumentKindInput"] = "DJ_ARGUMENT_KIND_INPUT",
        ["ArgumentKindOutput"] = "DJ_ARGUMENT_KIND_OUTPUT",
        ["ArgumentKindInOut"] = "DJ_ARGUMENT_KIND_IN_OUT",
        ["ArgumentKindCString"] = "DJ_ARGUMENT_KIND_CSTRING",
        ["ArgumentKindInputIovec"] = "DJ_ARGUMENT_KIND_INPUT_IOVEC",
        ["ArgumentKindOutputIovec"] = "DJ_ARGUMENT_KIND_OUTPUT_IOVEC",
        ["ArgumentKindInputArray"] = "DJ_ARGUMENT_KIND_INPUT_ARRAY",
        ["ArgumentKindOutputArray"] = "DJ_ARGUMENT_KIND_OUTPUT_ARRAY",
        ["ArgumentKindInOutArray"] = "DJ_ARGUMENT_KIND_IN_OUT_ARRAY",
        ["ArgumentKindValueResult"] = "DJ_ARGUMENT_KIND_VALUE_RESULT",
        ["MaxArrayCount"] = "DJ_MAX_ARRAY_COUNT",
        ["ArgumentKindSendMessage"] = "DJ_ARGUMENT_KIND_SEND_MESSAGE",
        ["ArgumentKindReceiveMessage"] = "DJ_ARGUMENT_KIND_RECEIVE_MESSAGE",
        ["ArgumentKindOpaque"] = "DJ_ARGUMENT_KIND_OPAQUE",
        ["ArgumentKindSignalMask"] = "DJ_ARGUMENT_KIND_SIGNAL_MASK",
        ["ArgumentKindSelected"] = "DJ_ARGUMENT_KIND_SELECTED",
        ["ConfigChoiceTableOffsetOffset"] = "DJ_CONFIG_CHOICE_TABLE_OFFSET_OFFSET",
        ["ConfigChoiceCountOffset"] = "DJ_CONFIG_CHOICE_COUNT_OFFSET",
        ["ConfigChoiceSize"] = "DJ_CONFIG_CHOICE_SIZE",
        ["ConfigChoiceSelectorOffset"] = "DJ_CONFIG_CHOICE_SELECTOR_OFFSET",
        ["ConfigChoiceKindOffset"] = "DJ_CONFIG_CHOICE_KIND_OFFSET",
        ["ConfigChoiceFixedSizeOffset"] = "DJ_CONFIG_CHOICE_FIXED_SIZE_OFFSET",
        ["ConfigMaxChoicesPerArgument"] = "DJ_CONFIG_MAX_CHOICES_PER_ARGUMENT",
        ["ConfigMaxChoices"] = "DJ_CONFIG_MAX_CHOICES",
        ["ConfigEntryFirstChoiceOffset"] = "DJ_CONFIG_ENTRY_FIRST_CHOICE_OFFSET",
        ["MaxMessages"] = "DJ_MAX_MESSAGES",
        ["MaxMessageNameSize"] = "DJ_MAX_MESSAGE_NAME_SIZE",
        ["MaxMessageControlSize"] = "DJ_MAX_MESSAGE_CONTROL_SIZE",
        ["MessageHeaderSize"] = "DJ_MESSAGE_HEADER_SIZE",
        ["MessageNameSizeOffset"] = "DJ_MESSAGE_NAME_SIZE_OFFSET",
        ["MessageControlSizeOffset"] = "DJ_MESSAGE_CONTROL_SIZE_OFFSET",
        ["MessageDataSizeOffset"] = "DJ_MESSAGE_DATA_SIZE_OFFSET",
        ["MessageFlagsOffset"] = "DJ_MESSAGE_FLAGS_OFFSET",
        ["MessagePresenceOffset"] = "DJ_MESSAGE_PRESENCE_OFFSET",
        ["MessageIovCountOffset"] = "DJ_MESSAGE_IOV_COUNT_OFFSET",
        ["MessageLengthOffset"] = "DJ_MESSAGE_LENGTH_OFFSET",
        ["MessageReservedOffset"] = "DJ_MESSAGE_RESERVED_OFFSET",
        ["MessageNamePresent"] = "DJ_MESSAGE_NAME_PRESENT",
        ["MessageControlPresent"] = "DJ_MESSAGE_CONTROL_PRESENT",
        ["MsghdrSize"] = "DJ_MSGHDR_SIZE",
        ["MmsghdrSize"] = "DJ_MMSGHDR_SIZE",
        ["SigsetPairSize"] = "DJ_SIGSET_PAIR_SIZE",
        ["MaxIovecCount"] = "DJ_MAX_IOVEC_COUNT",
        ["MaxCStringSize"] = "DJ_MAX_CSTRING_SIZE",
        ["BlockMagic"] = "DJ_BLOCK_MAGIC",
        ["BlockVersionMajor"] = "DJ_BLOCK_VERSION_MAJOR",
        ["BlockVersionMinor"] = "DJ_BLOCK_VERSION_MINOR",
        ["BlockHeaderSize"] = "DJ_BLOCK_HEADER_SIZE",
        ["BlockDefaultSlotSize"] = "DJ_BLOCK_DEFAULT_SLOT_SIZE",
        ["BlockMinSlotSize"] = "DJ_BLOCK_MIN_SLOT_SIZE",
        ["BlockItemsStart"] = "DJ_BLOCK_ITEMS_START",
        ["BlockMagicOffset"] = "DJ_BLOCK_MAGIC_OFFSET",
        ["BlockVersionMajorOffset"] = "DJ_BLOCK_VERSION_MAJOR_OFFSET",
        ["BlockVersionMinorOffset"] = "DJ_BLOCK_VERSION_MINOR_OFFSET",
        ["BlockSlotSizeOffset"] = "DJ_BLOCK_SLOT_SIZE_OFFSET",
        ["BlockItemsOffsetOffset"] = "DJ_BLOCK_ITEMS_OFFSET_OFFSET",
        ["BlockItemsCapacityOffset"] = "DJ_BLOCK_ITEMS_CAPACITY_OFFSET",
        ["BlockRequestSizeOffset"] = "DJ_BLOCK_REQUEST_SIZE_OFFSET",
        ["BlockDoorbellOffset"] = "DJ_BLOCK_DOORBELL_OFFSET",
        ["BlockHostSleepingOffset"] = "DJ_BLOCK_HOST_SLEEPING_OFFSET",
        ["BlockShimSleepingOffset"] = "DJ_BLOCK_SHIM_SLEEPING_OFFSET",
        ["BlockRequestSequenceOffset"] = "DJ_BLOCK_REQUEST_SEQUENCE_OFFSET",
        ["BlockReplySequenceOffset"] = "DJ_BLOCK_REPLY_SEQUENCE_OFFSET",
        ["BlockSlotCountOffset"] = "DJ_BLOCK_SLOT_COUNT_OFFSET",
        ["BlockSignalsOffset"] = "DJ_BLOCK_SIGNALS_OFFSET",
        ["BlockInterruptingOffset"] = "DJ_BLOCK_INTERRUPTING_OFFSET",
        ["SleepingStateMask"] = "DJ_SLEEPING_STATE_MASK",
        ["SleepingCpuShift"] = "DJ_SLEEPING_CPU_SHIFT",
        ["DoorbellIdle"] = "DJ_DOORBELL_IDLE",
        ["DoorbellRequest"] = "DJ_DOORBELL_REQUEST",
        ["DoorbellReply"] = "DJ_DOORBELL_REPLY",
        ["ItemHeaderSize"] = "DJ_ITEM_HEADER_SIZE",
        ["ItemAlignment"] = "DJ_ITEM_ALIGNMENT",
        ["ItemSizeOffset"] = "DJ_ITEM_SIZE_OFFSET",
        ["ItemKindOffset"] = "DJ_ITEM_KIND_OFFSET",
        ["ItemKindSyscall"] = "DJ_ITEM_KIND_SYSCALL",
        ["ItemKindExit"] = "DJ_ITEM_KIND_EXIT",
        ["ItemKindFault"] = "DJ_ITEM_KIND_FAULT",
        ["ItemKindLog"] = "DJ_ITEM_KIND_LOG",
        ["ItemKindSlotOpen"] = "DJ_ITEM_KIND_SLOT_OPEN",
        ["SlotOpenItemSize"] = "DJ_SLOT_OPEN_ITEM_SIZE",
        ["SlotOpenSlotOffset"] = "DJ_SLOT_OPEN_SLOT_OFFSET",
        ["SlotOpenThreadIdOffset"] = "DJ_SLOT_OPEN_THREAD_ID_OFFSET",
        ["SlotOpenResultOffset"] = "DJ_SLOT_OPEN_RESULT_OFFSET",
        ["ItemKindTrace"] = "DJ_ITEM_KIND_TRACE",
        ["TraceItemSize"] = "DJ_TRACE_ITEM_SIZE",
        ["TraceNumberOffset"] = "DJ_TRACE_NUMBER_OFFSET",
        ["TraceThreadIdOffset"] = "DJ_TRACE_THREAD_ID_OFFSET",
        ["TraceArgumentsOffset"] = "DJ_TRACE_ARGUMENTS_OFFSET",
        ["TraceResultOffset"] = "DJ_TRACE_RESULT_OFFSET",
        ["SyscallNumberOffset"] = "DJ_SYSCALL_NUMBER_OFFSET",
        ["SyscallFlagsOffset"] = "DJ_SYSCALL_FLAGS_OFFSET",
        ["SyscallArgumentsOffset"] = "DJ_SYSCALL_ARGUMENTS_OFFSET",
        ["SyscallResultOffset"] = "DJ_SYSCALL_RESULT_OFFSET",
        ["SyscallBuffersOffset"] = "DJ_SYSCALL_BUFFERS_OFFSET",
        ["SyscallBufferSize"] = "DJ_SYSCALL_BUFFER_SIZE",
        ["SyscallOutputSizesOffset"] = "DJ_SYSCALL_OUTPUT_SIZES_OFFSET",
        ["SyscallReservedOffset"] = "DJ_SYSCALL_RESERVED_OFFSET",
        ["SyscallFixedSize"] = "DJ_SYSCALL_FIXED_SIZE",
        ["SyscallFlagUndeclared"] = "DJ_SYSCALL_FLAG_UNDECLARED",
        ["ExitItemSize"] = "DJ_EXIT_ITEM_SIZE",
        ["ExitStatusOffset"] = "DJ_EXIT_STATUS_OFFSET",
        ["FaultItemSize"] = "DJ_FAULT_ITEM_SIZE",
        ["FaultSignalOffset"] = "DJ_FAULT_SIGNAL_OFFSET",
        ["FaultVectorOffset"] = "DJ_FAULT_VECTOR_OFFSET",
        ["FaultAddressOffset"] = "DJ_FAULT_ADDRESS_OFFSET",
        ["FaultInstructionPointerOffset"] = "DJ_FAULT_INSTRUCTION_POINTER_OFFSET",
        ["FaultErrorCodeOffset"] = "DJ_FAULT_ERROR_CODE_OFFSET",
        ["LogFixedSize"] = "DJ_LOG_FIXED_SIZE",
        ["LogLevelOffset"] = "DJ_LOG_LEVEL_OFFSET",
        ["LogLengthOffset"] = "DJ_LOG_LENGTH_OFFSET",
        ["LogTextOffset"] = "DJ_LOG_TEXT_OFFSET",
        ["LogLevelDebug"] = "DJ_LOG_LEVEL_DEBUG",
        ["LogLevelError"] = "DJ_LOG_LEVEL_ERROR",
        ["NoteName"] = "DJ_NOTE_NAME",
        ["NoteType"] = "DJ_NOTE_TYPE",
        ["NoteDescriptorSize"] = "DJ_NOTE_DESCRIPTOR_SIZE",
        ["ShimImageDescriptor"] = "DJ_SHIM_IMAGE_DESCRIPTOR",
        ["ShimBlockDescriptor"] = "DJ_SHIM_BLOCK_DESCRIPTOR",
        ["ShimExitBadArguments"] = "DJ_SHIM_EXIT_BAD_ARGUMENTS",
        ["ShimExitBadImage"] = "DJ_SHIM_EXIT_BAD_IMAGE",
        ["ShimExitBadBlock"] = "DJ_SHIM_EXIT_BAD_BLOCK",
        ["ShimExitMapFailed"] = "DJ_SHIM_EXIT_MAP_FAILED",
        ["ShimExitSeccompFailed"] = "DJ_SHIM_EXIT_SECCOMP_FAILED",
    };

    [Fact]
    public void Every_constant_matches_protocol_h()
    {
        var header = ReadHeader(out var unparsable);
        var constants = typeof(ProtocolLayout)
            .GetFields(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(f => f.IsLiteral)
            .ToDictionary(f => f.Name, f => f.GetRawConstantValue());

        var problems = new List<string>();
        problems.AddRange(unparsable.Select(line => $"protocol.h: cannot parse the value of: {line}"));
        foreach (var name in constants.Keys.Where(n => !CSharpToHeader.ContainsKey(n)).Order())
        {
            problems.Add($"ProtocolLayout.{name} has no entry in the mapping table of ProtocolLayoutTests");
        }

        foreach (var (csharp, define) in CSharpToHeader.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            if (!constants.TryGetValue(csharp, out var value))
            {
                problems.Add($"the mapping table names ProtocolLayout.{csharp}, which does not exist");
                continue;
            }

            if (!header.TryGetValue(define, out var defined))
            {
                problems.Add($"missing in protocol.h: {define} (for ProtocolLayout.{csharp} = {Show(value)})");
                continue;
            }

            if (!SameValue(value, defined))
            {
                problems.Add($"mismatch: ProtocolLayout.{csharp} = {Show(value)} but protocol.h {define} = {Show(defined)}");
            }
        }

        var mapped = CSharpToHeader.Values.ToHashSet(StringComparer.Ordinal);
        foreach (var define in header.Keys.Where(d => !mapped.Contains(d)).Order())
        {
            problems.Add($"missing in ProtocolLayout: protocol.h defines {define} = {Show(header[define])}, which no C# constant maps to");
        }

        problems.Should().BeEmpty("ProtocolLayout.cs and asm/include/protocol.h must define the same protocol; differences:\n  " + string.Join("\n  ", problems));
    }

    [Fact]
    public void The_mapping_table_maps_each_define_once()
    {
        CSharpToHeader.Values.GroupBy(v => v).Where(g => g.Count() > 1).Select(g => g.Key).Should().BeEmpty();
    }

    [Fact]
    public void The_contracts_argument_kinds_are_the_wire_values()
    {
        var wire = new Dictionary<Donjon.Abstractions.Syscalls.ArgumentKind, int>
        {
            [Donjon.Abstractions.Syscalls.ArgumentKind.Value] = ProtocolLayout.ArgumentKindValue,
            [Donjon.Abstractions.Syscalls.ArgumentKind.InputBuffer] = ProtocolLayout.ArgumentKindInput,
            [Donjon.Abstractions.Syscalls.ArgumentKind.OutputBuffer] = ProtocolLayout.ArgumentKindOutput,
            [Donjon.Abstractions.Syscalls.ArgumentKind.InOutBuffer] = ProtocolLayout.ArgumentKindInOut,
            [Donjon.Abstractions.Syscalls.ArgumentKind.CString] = ProtocolLayout.ArgumentKindCString,
            [Donjon.Abstractions.Syscalls.ArgumentKind.InputIovec] = ProtocolLayout.ArgumentKindInputIovec,
            [Donjon.Abstractions.Syscalls.ArgumentKind.OutputIovec] = ProtocolLayout.ArgumentKindOutputIovec,
            [Donjon.Abstractions.Syscalls.ArgumentKind.InputArray] = ProtocolLayout.ArgumentKindInputArray,
            [Donjon.Abstractions.Syscalls.ArgumentKind.OutputArray] = ProtocolLayout.ArgumentKindOutputArray,
            [Donjon.Abstractions.Syscalls.ArgumentKind.InOutArray] = ProtocolLayout.ArgumentKindInOutArray,
            [Donjon.Abstractions.Syscalls.ArgumentKind.ValueResultLength] = ProtocolLayout.ArgumentKindValueResult,
            [Donjon.Abstractions.Syscalls.ArgumentKind.SendMessage] = ProtocolLayout.ArgumentKindSendMessage,
            [Donjon.Abstractions.Syscalls.ArgumentKind.ReceiveMessage] = ProtocolLayout.ArgumentKindReceiveMessage,
            [Donjon.Abstractions.Syscalls.ArgumentKind.Opaque] = ProtocolLayout.ArgumentKindOpaque,
            [Donjon.Abstractions.Syscalls.ArgumentKind.SignalMask] = ProtocolLayout.ArgumentKindSignalMask,
            [Donjon.Abstractions.Syscalls.ArgumentKind.Selected] = ProtocolLayout.ArgumentKindSelected,
        };
        wire.Keys.Should().BeEquivalentTo(Enum.GetValues<Donjon.Abstractions.Syscalls.ArgumentKind>(), "every kind has a wire value");
        foreach ((var kind, int value) in wire)
        {
            ((int)kind).Should().Be(value, kind.ToString());
        }

        SignatureValidator.HighestKnownKind.Should().Be(Enum.GetValues<Donjon.Abstractions.Syscalls.ArgumentKind>().Max());
    }

    [Fact]
    public void Structure_sizes_add_up()
    {
        // Each structure's last field plus its size gives the structure's size (docs/protocol.md).
        (ProtocolLayout.ImageReservedOffset + ProtocolLayout.ImageReservedSize).Should().Be(ProtocolLayout.ImageHeaderSize);
        (ProtocolLayout.RegionDataSizeOffset + 8).Should().Be(ProtocolLayout.RegionSize);
        (ProtocolLayout.ConfigModuleDigestOffset + ProtocolLayout.ConfigModuleDigestSize).Should().Be(ProtocolLayout.ConfigTrustedManifestOffset);
        (ProtocolLayout.ConfigTrustedManifestOffset + 32).Should().Be(ProtocolLayout.ConfigFlagsOffset);
        (ProtocolLayout.ConfigFlagsOffset + 4).Should().Be(ProtocolLayout.ConfigChoiceTableOffsetOffset);
        (ProtocolLayout.ConfigChoiceTableOffsetOffset + 4).Should().Be(ProtocolLayout.ConfigChoiceCountOffset);
        (ProtocolLayout.ConfigChoiceCountOffset + 4).Should().Be(ProtocolLayout.ConfigTailReservedOffset);
        (ProtocolLayout.ConfigChoiceFixedSizeOffset + 2).Should().Be(ProtocolLayout.ConfigChoiceSize);
        (ProtocolLayout.ConfigTailReservedOffset + ProtocolLayout.ConfigTailReservedSize).Should().Be(ProtocolLayout.ConfigHeaderSize);
        (ProtocolLayout.ConfigEntryArgumentsOffset + (ProtocolLayout.MaxArguments * ProtocolLayout.ConfigArgumentSize)).Should().Be(ProtocolLayout.ConfigEntryReservedOffset);
        (ProtocolLayout.ConfigEntryReservedOffset + 4).Should().Be(ProtocolLayout.ConfigEntrySize);
        (ProtocolLayout.BlockSlotCountOffset + 4).Should().Be(ProtocolLayout.BlockInterruptingOffset);
        (ProtocolLayout.ConfigMaxThreadsOffset + 4).Should().Be(ProtocolLayout.ConfigCpusOffset);
        (ProtocolLayout.ConfigCpusOffset + 4).Should().Be(ProtocolLayout.ConfigModuleDigestOffset);
        (ProtocolLayout.SlotOpenResultOffset + 8).Should().Be(ProtocolLayout.SlotOpenItemSize);
        (ProtocolLayout.TraceArgumentsOffset + (8 * ProtocolLayout.MaxArguments)).Should().Be(ProtocolLayout.TraceResultOffset);
        (ProtocolLayout.TraceResultOffset + 8).Should().Be(ProtocolLayout.TraceItemSize);
        (ProtocolLayout.BlockInterruptingOffset + 8).Should().Be(ProtocolLayout.BlockSignalsOffset);
        (ProtocolLayout.BlockSignalsOffset + 8).Should().Be(ProtocolLayout.BlockHeaderSize);
        (ProtocolLayout.SyscallArgumentsOffset + (8 * ProtocolLayout.MaxArguments)).Should().Be(ProtocolLayout.SyscallResultOffset);
        (ProtocolLayout.SyscallBuffersOffset + (ProtocolLayout.SyscallBufferSize * ProtocolLayout.MaxArguments)).Should().Be(ProtocolLayout.SyscallOutputSizesOffset);
        (ProtocolLayout.SyscallOutputSizesOffset + (4 * ProtocolLayout.MaxArguments)).Should().Be(ProtocolLayout.SyscallReservedOffset);
        (ProtocolLayout.SyscallReservedOffset + 8).Should().Be(ProtocolLayout.SyscallFixedSize);
        (ProtocolLayout.FaultErrorCodeOffset + 8).Should().Be(ProtocolLayout.FaultItemSize);
        ProtocolLayout.SyscallFixedSize.Should().Be(152);
    }

    /// <summary>Reads every <c>#define DJ_NAME value</c> of protocol.h.</summary>
    private static Dictionary<string, object> ReadHeader(out List<string> unparsable)
    {
        string path = HeaderPath();
        File.Exists(path).Should().BeTrue($"asm/include/protocol.h not found (looked for {path}); the shims' protocol header must exist for ProtocolLayout to be checked against it");

        var defines = new Dictionary<string, object>(StringComparer.Ordinal);
        unparsable = [];
        foreach (var rawLine in File.ReadLines(path))
        {
            var match = DefineLine().Match(rawLine);
            if (!match.Success)
            {
                continue;
            }

            string name = match.Groups["name"].Value;
            string value = StripComments(match.Groups["rest"].Value);
            if (value.Length == 0)
            {
                continue; // An include guard, or another macro without a value.
            }

            if (!TryParseValue(value, out object parsed))
            {
                unparsable.Add(rawLine.Trim());
                continue;
            }

            defines[name] = parsed;
        }

        return defines;
    }

    private static string StripComments(string text)
    {
        int block = text.IndexOf("/*", StringComparison.Ordinal);
        int line = text.IndexOf("//", StringComparison.Ordinal);
        int cut = (block, line) switch
        {
            (< 0, < 0) => text.Length,
            (< 0, _) => line,
            (_, < 0) => block,
            _ => Math.Min(block, line),
        };
        return text[..cut].Trim();
    }

    private static bool TryParseValue(string value, out object parsed)
    {
        if (value.Length >= 2 && value[0] == '"' && value[^1] == '"')
        {
            parsed = value[1..^1];
            return true;
        }

        string digits = value.TrimEnd('u', 'U', 'l', 'L');
        bool ok = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(digits.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong number)
            : ulong.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out number);
        parsed = number;
        return ok;
    }

    private static bool SameValue(object? csharp, object header) => (csharp, header) switch
    {
        (string a, string b) => a == b,
        (string, _) or (_, string) => false,
        (null, _) => false,
        _ => Convert.ToDecimal(csharp, CultureInfo.InvariantCulture) == Convert.ToDecimal(header, CultureInfo.InvariantCulture),
    };

    private static string Show(object? value) => value switch
    {
        string s => $"\"{s}\"",
        null => "null",
        _ => string.Create(CultureInfo.InvariantCulture, $"{value} (0x{Convert.ToUInt64(value, CultureInfo.InvariantCulture):X})"),
    };

    private static string HeaderPath()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Donjon.sln")))
        {
            directory = directory.Parent;
        }

        directory.Should().NotBeNull($"no directory above {AppContext.BaseDirectory} has Donjon.sln");
        return Path.Combine(directory!.FullName, "asm", "include", "protocol.h");
    }

    /// <summary><c>#define DJ_NAME rest</c>: the rest is the value and an optional comment, or nothing.</summary>
    [GeneratedRegex("""^\s*#\s*define\s+(?<name>DJ_\w+)(?<rest>.*)$""")]
    private static partial Regex DefineLine();
}
