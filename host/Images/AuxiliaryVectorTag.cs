namespace Donjon.Host.Images;

/// <summary>
/// The auxiliary vector tags (<c>AT_*</c>, from Linux's <c>uapi/linux/auxvec.h</c>) that Donjon puts on a
/// workload's initial stack. <c>AT_SYSINFO_EHDR</c> is listed only so tests can check it is never passed: a vDSO
/// would let clock calls bypass the keep.
/// </summary>
internal static class AuxiliaryVectorTag
{
    public const ulong AT_NULL = 0;
    public const ulong AT_PHDR = 3;
    public const ulong AT_PHENT = 4;
    public const ulong AT_PHNUM = 5;
    public const ulong AT_PAGESZ = 6;
    public const ulong AT_BASE = 7;
    public const ulong AT_FLAGS = 8;
    public const ulong AT_ENTRY = 9;
    public const ulong AT_UID = 11;
    public const ulong AT_EUID = 12;
    public const ulong AT_GID = 13;
    public const ulong AT_EGID = 14;
    public const ulong AT_PLATFORM = 15;
    public const ulong AT_HWCAP = 16;
    public const ulong AT_CLKTCK = 17;
    public const ulong AT_SECURE = 23;
    public const ulong AT_RANDOM = 25;
    public const ulong AT_HWCAP2 = 26;
    public const ulong AT_EXECFN = 31;
    public const ulong AT_SYSINFO_EHDR = 33;
}
