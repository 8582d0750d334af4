using System.Runtime.InteropServices;

namespace AnycastDns.Zones;

/// <summary>
/// Memory for the records as read (<see cref="RecordArena"/>), outside the garbage-collected heap, so that what the
/// build has copied into the zone goes back to the system at once. In the GC heap it could not: the first load runs
/// without collections (the server's pause-free region), where nothing is freed before the load ends, and under a
/// container's limit the records as read and the zone made from them had to fit in the heap side by side.
/// </summary>
/// <remarks>
/// Large blocks are mapped from the kernel and unmapped when freed (through malloc, the allocator could keep them for
/// its next allocations of that size, resident); small ones, a small zone's, come from malloc. What the mapping gives
/// is zeroed; what malloc gives is not, and none of it is read before it is written.
/// </remarks>
internal static unsafe partial class ArenaMemory
{
    /// <summary>From this size a block is a mapping of its own.</summary>
    private const int MapFrom = 64 << 10;

    private const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20;

    public static byte* Allocate(int bytes)
    {
        if (bytes >= MapFrom && OperatingSystem.IsLinux())
        {
            nint p = mmap(0, (nuint)bytes, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (p == -1)
            {
                // As a failed allocation in the heap would: the loader reports the zone as not fitting in memory.
                throw new OutOfMemoryException($"cannot map {bytes} octets for the records as read (errno {Marshal.GetLastPInvokeError()})");
            }
            return (byte*)p;
        }
        return (byte*)NativeMemory.Alloc((nuint)bytes);
    }

    public static void Free(byte* block, int bytes)
    {
        if (bytes >= MapFrom && OperatingSystem.IsLinux())
        {
            munmap((nint)block, (nuint)bytes);
            return;
        }
        NativeMemory.Free(block);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc")]
    private static partial int munmap(nint address, nuint length);
}
