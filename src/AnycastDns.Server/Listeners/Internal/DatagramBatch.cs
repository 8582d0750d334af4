using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace AnycastDns.Server.Listeners.Internal;

/// <summary>
/// Receives up to <see cref="Capacity"/> datagrams with one <c>recvmmsg(2)</c> and sends their answers with one
/// <c>sendmmsg(2)</c> (Linux). Under load that is two system calls for a batch instead of two per query, which is
/// most of what a UDP answer costs; when idle, <c>MSG_WAITFORONE</c> returns as soon as one datagram is there, so
/// a lone query waits for no other.
/// <para>
/// Every buffer lives in one native block allocated at construction and freed on dispose; receiving and sending
/// allocate nothing. Owned by one receive thread.
/// </para>
/// </summary>
internal sealed unsafe partial class DatagramBatch : IDisposable
{
    /// <summary>Datagrams per system call. 32 empties a busy socket in few calls and keeps the buffers in cache.</summary>
    public const int DefaultCapacity = 32;

    /// <summary>
    /// The longest query we take over UDP. A query is a header, a question and an OPT record (RFC 6891 §6.1.2); no
    /// client sends 4 KiB of that, and a longer datagram is reported truncated and dropped.
    /// </summary>
    public const int QuerySize = 4096;

    // Linux ABI values: <bits/socket.h>, <asm-generic/errno-base.h>, <asm-generic/errno.h>.
    private const int MsgTrunc = 0x20;
    private const int MsgWaitForOne = 0x10000;
    private const int EIntr = 4;
    private const int EAgain = 11;
    private const int ENoSys = 38;
    private const int EConnRefused = 111;
    private const int EBadF = 9;
    private const int ENotSock = 88;

    /// <summary>sizeof(struct sockaddr_storage): room for any peer address.</summary>
    private const int AddressSize = 128;

    /// <summary>Extra bytes between slots, so that slots a power of two apart do not all fall in one cache set.</summary>
    private const int SlotPad = 64;

    private readonly int _queryStride;
    private readonly int _responseStride;
    private readonly int _responseSize;
    private byte* _block;
    private readonly MMsgHdr* _received;
    private readonly MMsgHdr* _replies;
    private readonly IoVec* _receiveVectors;
    private readonly IoVec* _replyVectors;
    private readonly byte* _addresses;
    private readonly byte* _queries;
    private readonly byte* _responses;
    private int _replyCount;

    /// <param name="responseSize">The largest UDP response the responder writes (its MaxUdpPayload).</param>
    public DatagramBatch(int capacity, int responseSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(responseSize, 512);
        Capacity = capacity;
        _responseSize = responseSize;
        _queryStride = QuerySize + SlotPad;
        _responseStride = (responseSize + 63) / 64 * 64 + SlotPad;

        nuint headers = (nuint)(capacity * sizeof(MMsgHdr));
        nuint vectors = (nuint)(capacity * sizeof(IoVec));
        nuint total = 2 * headers + 2 * vectors + (nuint)(capacity * (AddressSize + _queryStride + _responseStride));
        _block = (byte*)NativeMemory.AlignedAlloc(total, 64);
        NativeMemory.Clear(_block, total);

        byte* p = _block;
        _received = (MMsgHdr*)p;
        p += headers;
        _replies = (MMsgHdr*)p;
        p += headers;
        _receiveVectors = (IoVec*)p;
        p += vectors;
        _replyVectors = (IoVec*)p;
        p += vectors;
        _addresses = p;
        p += capacity * AddressSize;
        _queries = p;
        p += capacity * _queryStride;
        _responses = p;

        for (int i = 0; i < capacity; i++)
        {
            _receiveVectors[i].Base = _queries + i * _queryStride;
            _receiveVectors[i].Length = QuerySize;
            _received[i].Header.Name = _addresses + i * AddressSize;
            _received[i].Header.Vector = &_receiveVectors[i];
            _received[i].Header.VectorLength = 1;
            _replies[i].Header.Vector = &_replyVectors[i];
            _replies[i].Header.VectorLength = 1;
        }
    }

    /// <summary>The most datagrams one <see cref="Receive"/> returns.</summary>
    public int Capacity { get; }

    /// <summary>Whether this platform has recvmmsg/sendmmsg (Linux); elsewhere the caller keeps one datagram per call.</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>
    /// Waits for at least one datagram and takes every one already queued, up to <see cref="Capacity"/>.
    /// Returns how many, 0 when the wait ended without one (the receive timeout, a signal, an ICMP error reported
    /// for an earlier send, a shut-down socket). Throws <see cref="SocketException"/> for anything else.
    /// </summary>
    public int Receive(SafeSocketHandle socket)
    {
        for (int i = 0; i < Capacity; i++)
        {
            // The kernel shrinks these to what each datagram used; give every slot its full size back.
            _received[i].Header.NameLength = AddressSize;
            _received[i].Header.Flags = 0;
        }
        _replyCount = 0;
        int count = recvmmsg(Descriptor(socket), _received, (uint)Capacity, MsgWaitForOne, null);
        if (count >= 0)
        {
            return count;
        }
        int errno = Marshal.GetLastPInvokeError();
        return errno is EAgain or EIntr or EConnRefused ? 0
            : errno == ENoSys ? throw new SocketException((int)SocketError.OperationNotSupported)
            : throw Failure("recvmmsg", errno);
    }

    /// <summary>The bytes of datagram <paramref name="index"/> of the last <see cref="Receive"/>.</summary>
    public ReadOnlySpan<byte> Query(int index) => new(_queries + index * _queryStride, (int)_received[index].Length);

    /// <summary>The sender of datagram <paramref name="index"/>: its sockaddr, as the kernel wrote it.</summary>
    public ReadOnlySpan<byte> Client(int index) => new(_received[index].Header.Name, (int)_received[index].Header.NameLength);

    /// <summary>True when datagram <paramref name="index"/> was longer than <see cref="QuerySize"/> and was cut.</summary>
    public bool IsTruncated(int index) => (_received[index].Header.Flags & MsgTrunc) != 0;

    /// <summary>Where to write the answer to datagram <paramref name="index"/>.</summary>
    public Span<byte> Response(int index) => new(_responses + index * _responseStride, _responseSize);

    /// <summary>Queues the answer to datagram <paramref name="index"/>, <paramref name="length"/> bytes of <see cref="Response"/>, to go back to its sender.</summary>
    public void Reply(int index, int length)
    {
        ref var reply = ref _replies[_replyCount++];
        reply.Header.Name = _received[index].Header.Name;
        reply.Header.NameLength = _received[index].Header.NameLength;
        reply.Header.Vector->Base = _responses + index * _responseStride;
        reply.Header.Vector->Length = (nuint)length;
    }

    /// <summary>
    /// Sends every queued answer. A datagram the kernel refuses (an unreachable client, no buffer space) is
    /// skipped, as a lost reply that UDP clients retry; the rest still go. Throws <see cref="SocketException"/> when
    /// the socket itself fails.
    /// </summary>
    public void Send(SafeSocketHandle socket)
    {
        int fd = Descriptor(socket);
        int next = 0;
        while (next < _replyCount)
        {
            int sent = sendmmsg(fd, _replies + next, (uint)(_replyCount - next), 0);
            if (sent > 0)
            {
                next += sent;
                continue;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr)
            {
                continue;
            }
            if (errno is EBadF or ENotSock)
            {
                throw Failure("sendmmsg", errno);
            }
            next++; // this one reply is lost; sendmmsg reports the error of the first datagram it could not send
        }
        _replyCount = 0;
    }

    public void Dispose()
    {
        if (_block != null)
        {
            NativeMemory.AlignedFree(_block);
            _block = null;
        }
    }

    /// <summary>
    /// A Linux errno as an exception: SocketException's own number is a <see cref="SocketError"/>, not an errno, so the
    /// errno goes into the message as the C library words it.
    /// </summary>
    private static SocketException Failure(string call, int errno) =>
        new((int)SocketError.SocketError, $"{call}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");

    private static int Descriptor(SafeSocketHandle socket) => (int)socket.DangerousGetHandle();

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    /// <summary>struct msghdr of the 64-bit Linux ABI (socklen_t is 32 bits; the compiler pads it as C does).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Vector;
        public nuint VectorLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int recvmmsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int sendmmsg(int fd, MMsgHdr* messages, uint count, int flags);
}
