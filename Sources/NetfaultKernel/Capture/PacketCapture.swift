import Foundation

/// Records every TCP segment on a namespace's links, as the kernel timestamps
/// them, on a thread of its own from `start()` to `stop()`.
///
/// One capture of the "any" device per namespace: its LINUX_SLL2 header tells each
/// frame's interface and whether it was sent or received, and one file per host
/// holds all of that host's links. Loopback frames are recorded too (the
/// decoder sets them aside): a kernel filter on interfaces would need a rule per link.
public final class PacketCapture: @unchecked Sendable {
    /// Enough for the LINUX_SLL2 header (20), an IPv6 header (40) and a TCP header
    /// with every option (60): segments are decoded, payloads are not kept.
    public static let defaultSnapLength = 128
    /// How long the kernel holds a partly filled block of the ring before handing
    /// it over: short enough that stopping waits little, long enough to batch.
    static let blockTimeoutMilliseconds = 20

    private let handle: PcapHandle
    private let sink: FrameSink
    private let namespaceName: String
    private let lock = NSLock()
    private var stopRequested = false
    private var failure: CaptureError?
    private let done = DispatchSemaphore(value: 0)
    private var running = false

    /// Equivalent to `ip netns exec NS tcpdump -i any -y LINUX_SLL2 -s 128 --time-stamp-precision nano tcp`.
    /// `bufferBytes` is the kernel ring: a bulk transfer at line rate fills 32 MiB in well over
    /// the block timeout, so nothing is dropped while the thread keeps up. The kernel zeroes it
    /// in one unpreemptible call (~100 ms for 32 MiB of fresh memory), so ask for what is needed.
    public init(namespace: NetworkNamespace, snapLength: Int = PacketCapture.defaultSnapLength,
                bufferBytes: Int = 32 << 20, filter: String = "tcp") throws {
        namespaceName = namespace.name
        handle = try PcapHandle.live(namespace: namespace, snapLength: snapLength, bufferBytes: bufferBytes,
                                     timeoutMilliseconds: Self.blockTimeoutMilliseconds)
        try handle.setFilter(filter)
        try handle.setNonblocking()
        sink = FrameSink(CapturedFrames(linkType: handle.linkType, snapLength: snapLength))
    }

    public func start() {
        running = true
        let descriptor = handle.selectableDescriptor
        let thread = Thread { [self] in
            do {
                while !lock.withLock({ stopRequested }) {
                    if try Sys.waitReadable(descriptor, timeoutMilliseconds: Int32(Self.blockTimeoutMilliseconds),
                                            operation: "poll capture in \(namespaceName)") {
                        try handle.dispatch(into: sink)
                    }
                }
                // The last block is handed over when its timeout expires: wait for it, then drain.
                MonotonicClock.sleep(seconds: 2.5 * Double(Self.blockTimeoutMilliseconds) / 1000)
                while try handle.dispatch(into: sink) > 0 {}
            } catch let error as CaptureError {
                lock.withLock { failure = error }
            } catch {
                lock.withLock { failure = CaptureError("capture in \(namespaceName): \(error)") }
            }
            done.signal()
        }
        thread.name = "netfault capture \(namespaceName)"
        thread.start()
    }

    /// Stops recording and returns what was recorded, with the kernel's count of
    /// frames it had to drop (ring full), which must be zero for a complete timeline.
    public func stop() throws -> (frames: CapturedFrames, dropped: Int) {
        if running {
            lock.withLock { stopRequested = true }
            done.wait()
            running = false
        }
        if let failure = lock.withLock({ failure }) { throw failure }
        return (sink.frames, handle.drops())
    }
}

/// The offset between CLOCK_REALTIME (packet timestamps) and CLOCK_MONOTONIC (a
/// scenario's time base), read as the closest of a few back-to-back pairs.
public enum CaptureClock {
    public static func realtimeMinusMonotonic() -> Int64 {
        var best: (width: Int64, offset: Int64) = (.max, 0)
        for _ in 0..<5 {
            let before = Sys.monotonicNanoseconds()
            let real = Sys.realtimeNanoseconds()
            let after = Sys.monotonicNanoseconds()
            if after - before < best.width { best = (after - before, real - (before + (after - before) / 2)) }
        }
        return best.offset
    }
}
