import CNetfaultBPF
import Foundation
import Glibc

/// Records every TCP packet leaving a namespace's interfaces from a tc egress program
/// (bpf/capture.bpf.c) instead of an AF_PACKET socket: the program copies each skb's
/// headers (up to 128 bytes from the network header), length, interface, GSO size and
/// departure instant into a ring that one thread drains from `start()` to `stop()`. No
/// frame is cloned, and a GSO packet is one record however many segments it becomes, which
/// is what makes it cheap next to libpcap (which costs a bulk transfer ~40 %).
///
/// Records come back as `CapturedFrames` in LINUX_SLL2 form (the cooked header made up from
/// the record: protocol, interface index, ARPHRD_ETHER, PACKET_OUTGOING), one per skb, with
/// each skb's GSO size and segment count alongside: `GSOSegments` (in Netfault) cuts them
/// into the wire's segments as the kernel's software GSO does. Each segment's own instant
/// comes from a `DepartureRecorder`, one for the whole scenario, whose program at the
/// `net_dev_start_xmit` tracepoint (where the device takes each segment, after the cut and
/// after the taps) records one small record per TCP segment of the captures' interfaces
/// (`Departure`), which `GSOSegments` matches to the segments it cuts. Equivalent to `tc
/// qdisc add dev X clsact; tc filter add dev X egress pref 512 bpf da obj capture.bpf.o sec
/// tc` for each interface; nothing is pinned.
public final class BPFCapture: @unchecked Sendable {
    /// The egress filter's priority: behind the fault engine's (`TCFaultEngine.tcPriority`,
    /// 256), whose programs return TC_ACT_UNSPEC for what they let through, so the capture
    /// sees exactly what leaves (not what the engine dropped).
    public static let egressPriority: UInt32 = 512
    /// Bytes of each record after the network header (NF_CAPTURE_BYTES).
    public static let keptBytes = 128
    /// The cooked header put in front of each record's bytes.
    public static let cookedHeaderBytes = 20
    /// How long the thread waits on the ring between reads: the program wakes it only when
    /// the ring is a quarter full (a wake-up per record costs more than the record), so
    /// this bounds how late a trickle is read, and how long `stop()` waits.
    static let pollMilliseconds: Int32 = 10
    /// Record layout (bpf/capture.h, checked by the shim's _Static_asserts).
    static let recordSize = 24 + keptBytes

    /// One TCP segment handed to a device (tp_btf/net_dev_start_xmit), after software GSO
    /// cut it out of its packet.
    public struct Departure: Sendable, Equatable {
        /// When the device took it (CLOCK_REALTIME, ns): after the taps (tcpdump's stamp) had it.
        public var timestamp: Int64
        /// The device's index in the capture's namespace.
        public var interfaceIndex: UInt32
        /// The TCP sequence number.
        public var sequence: UInt32
        /// The segment's length from its network header on.
        public var length: Int

        /// A departure (tests make their own).
        public init(timestamp: Int64, interfaceIndex: UInt32, sequence: UInt32, length: Int) {
            self.timestamp = timestamp
            self.interfaceIndex = interfaceIndex
            self.sequence = sequence
            self.length = length
        }
    }

    /// One skb's GSO fields as the program read them.
    public struct GSO: Sendable, Equatable {
        /// skb->gso_size: TCP payload bytes per wire segment (0: not a GSO packet).
        public let size: UInt16
        /// skb->gso_segs: the segments the kernel will cut it into (0 or 1: one).
        public let segments: UInt16

        /// A record's GSO fields.
        public init(size: UInt16, segments: UInt16) {
            self.size = size
            self.segments = segments
        }
    }

    /// What `stop()` returns: the records in the order written, as cooked frames (one per
    /// skb), each frame's GSO fields at the same index, the records lost, and each
    /// segment's departure.
    public struct Recorded: Sendable {
        /// One LINUX_SLL2 frame per skb, stamped with its departure (CLOCK_REALTIME).
        public var frames: CapturedFrames
        /// `gso[i]` belongs to `frames.records[i]`.
        public var gso: [GSO]
        /// Records the program could not write because the ring was full (0 for a complete timeline).
        public var lost: Int
        /// Every TCP segment the capture's interfaces took, in the order recorded (empty when
        /// `departuresUnavailable` says why).
        public var departures: [Departure]
        /// Departures the program could not write because their ring was full, of any host
        /// of the scenario (the departures' ring is the scenario's; those segments keep their
        /// packet's instant; the timeline is complete without them).
        public var departuresLost: Int
        /// Why there are no departures (the kernel would not load or attach the program):
        /// every segment has its packet's instant. nil: they were recorded.
        public var departuresUnavailable: String?

        /// What a capture recorded (tests make their own).
        public init(frames: CapturedFrames, gso: [GSO], lost: Int, departures: [Departure] = [], departuresLost: Int = 0,
                    departuresUnavailable: String? = nil) {
            self.frames = frames
            self.gso = gso
            self.lost = lost
            self.departures = departures
            self.departuresLost = departuresLost
            self.departuresUnavailable = departuresUnavailable
        }
    }

    private let object: BPFObject
    private let egressFD: Int32
    private let lostFD: Int32
    private var ring: BPFRingBuffer?
    private let namespace: NetworkNamespace
    private let realtimeOffset: Int64
    private let sink: FrameSink
    private var gso: [GSO] = []
    private let lock = NSLock()
    private var stopRequested = false
    private var failure: BPFError?
    private var readerSeconds = 0.0
    private let done = DispatchSemaphore(value: 0)
    private var running = false
    private var attachments: [Attachment] = []
    private var scratch = [UInt8](repeating: 0, count: 20 + 128)
    /// The scenario's departures (shared by its hosts' captures), and this host's slot there.
    private let departureRecorder: DepartureRecorder
    private let departureSlot: Int
    /// The recorder is this capture's own (made by `init` for want of one): closed with it.
    private let ownsDepartureRecorder: Bool

    private struct Attachment {
        let interfaceIndex: Int32
        let name: String
        let handles: [UInt32]
        let priorities: [UInt32]
        let createdHook: Bool
    }

    /// Loads an instance for `namespace`. `realtimeOffset` is CLOCK_REALTIME − CLOCK_MONOTONIC
    /// (`CaptureClock.realtimeMinusMonotonic()`): the programs stamp with the monotonic clock,
    /// the timeline and libpcap's frames are on the realtime clock, so each instant gets this
    /// one offset. Pass the offset the scenario's realtime zero was made with, and the
    /// timeline's times are the monotonic differences exactly. `departures` is the scenario's
    /// `DepartureRecorder`, made with the same offset, which this capture registers its
    /// namespace with; nil: one of its own (one tracepoint program per capture: a scenario
    /// shares one, so that each transmit runs one program).
    public init(namespace: NetworkNamespace, realtimeOffset: Int64, departures: DepartureRecorder? = nil) throws {
        guard let bytes = Data(base64Encoded: CaptureObject.base64) else {
            throw BPFError("capture: the embedded BPF object is corrupt", errno: EINVAL)
        }
        self.namespace = namespace
        self.realtimeOffset = realtimeOffset
        object = try BPFObject(bytes: Array(bytes), name: "capture")
        egressFD = try object.programFD("capture_egress")
        lostFD = try object.mapFD("lost")
        sink = FrameSink(CapturedFrames(linkType: 276, snapLength: Self.cookedHeaderBytes + Self.keptBytes))
        departureRecorder = try departures ?? DepartureRecorder(realtimeOffset: realtimeOffset)
        ownsDepartureRecorder = departures == nil
        departureSlot = try departureRecorder.register(namespace: namespace)
        ring = try BPFRingBuffer(mapFD: try object.mapFD("records")) { [unowned self] record in append(record) }
    }

    deinit {
        if running { _ = try? stop() }
        close()
    }

    /// Attaches the egress program to interface `interfaceIndex` of the namespace at
    /// `egressPriority`, creating clsact if missing, on a thread that enters the namespace
    /// and ends after. Equivalent to `tc qdisc add dev X clsact; tc filter add dev X egress
    /// pref 512 bpf da obj capture.bpf.o sec tc`. The interface's departures are recorded
    /// from then on too (the recorder's program is attached with its first interface),
    /// unless the kernel refuses that program (`Recorded.departuresUnavailable` says why).
    public func attach(interfaceIndex: Int32, name: String) throws {
        // Departures first: every segment whose packet the tc program records has one.
        try departureRecorder.add(interfaceIndex: interfaceIndex, name: name, slot: departureSlot)
        try lock.withLock {
            var created: Int32 = 0
            // No program at ingress (-1): the peer's arrival is made from the departure.
            var handles: [UInt32] = [0, 0], priorities: [UInt32] = [Self.egressPriority, 0]
            var stage = [CChar](repeating: 0, count: 64)
            let result = nf_tc_attach_pair(namespace.fd, interfaceIndex, egressFD, -1, &created, &handles,
                                           &priorities, &stage, stage.count)
            if result != 0 {
                let step = String(decoding: stage.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw BPFError("capture: \(step) on \(name) in \(namespace.name)", errno: -result)
            }
            attachments.append(Attachment(interfaceIndex: interfaceIndex, name: name, handles: handles, priorities: priorities,
                                          createdHook: created != 0))
        }
    }

    /// Starts the thread that drains the ring (and the departures' thread, if not started).
    public func start() {
        departureRecorder.start()
        running = true
        let thread = Thread { [self] in
            let cpuAtStart = ProcessCPU.threadSeconds()
            do {
                try ring?.drain(pollMilliseconds: Self.pollMilliseconds) { lock.withLock { stopRequested } }
            } catch let error as BPFError {
                lock.withLock { failure = error }
            } catch {
                lock.withLock { failure = BPFError("capture in \(namespace.name): \(error)", errno: EIO) }
            }
            lock.withLock { readerSeconds = ProcessCPU.threadSeconds() - cpuAtStart }
            done.signal()
        }
        thread.name = "netfault bpf capture \(namespace.name)"
        thread.start()
    }

    /// Stops reading and returns what was recorded, in the order it was recorded, with the
    /// program's count of records lost because the ring was full (must be 0 for a complete
    /// timeline). The first capture of a scenario to stop stops its departures for every
    /// host (stop them together, after the last segment). The programs stay attached until `close()`.
    public func stop() throws -> Recorded {
        if running {
            lock.withLock { stopRequested = true }
            done.wait()
            running = false
        }
        if let failure = lock.withLock({ failure }) { throw failure }
        try departureRecorder.stop()
        return Recorded(frames: sink.frames, gso: gso, lost: lost, departures: departureRecorder.departures(slot: departureSlot),
                        departuresLost: departureRecorder.lost, departuresUnavailable: departureRecorder.unavailable)
    }

    /// The CPU seconds this capture's reader thread took, once `stop()` has returned (0
    /// before); the departures' reader's are `DepartureRecorder.readerCPUSeconds`.
    public var readerCPUSeconds: Double { lock.withLock { readerSeconds } }

    /// The tc program's runs and run time so far (counted only inside
    /// `ProgramCost.counting`): what the capture costs the sending path; the departures'
    /// program's too where the recorder is this capture's own (a shared one's are
    /// `DepartureRecorder.programStats`).
    public var programStats: [ProgramCost] {
        object.programStats() + (ownsDepartureRecorder ? departureRecorder.programStats : [])
    }

    /// The ids of this capture's programs and maps, its recorder's too (`bpftool prog`/`map`
    /// show them), to find leaks.
    public var ids: (programs: Set<UInt32>, maps: Set<UInt32>) {
        let own = object.ids(), departures = departureRecorder.ids
        return (own.programs.union(departures.programs), own.maps.union(departures.maps))
    }

    /// Records the program could not write because the ring was full.
    public var lost: Int {
        Int(BPFObject.lookup(map: lostFD, key: [0, 0, 0, 0], valueSize: 8)
            .map { $0.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } } ?? 0)
    }

    /// Detaches the program (and removes clsact where this capture created it), then frees
    /// the object; takes the namespace out of the departures' filter (and closes the
    /// recorder if it is this capture's own: destroying the tracepoint's link). Equivalent to
    /// `tc filter del dev X egress pref 512; tc qdisc del dev X clsact`. Errors other than a device already gone
    /// come back, one line each. Close it after the fault engine on the same interfaces:
    /// removing clsact removes its filters too.
    @discardableResult
    public func close() -> [String] {
        lock.withLock {
            var errors: [String] = []
            for attachment in attachments.reversed() {
                let result = nf_tc_detach_pair(namespace.fd, attachment.interfaceIndex, attachment.handles, attachment.priorities,
                                               attachment.createdHook ? 1 : 0)
                if result != 0 {
                    errors.append("\(BPFError("tc filter del dev \(attachment.name) in \(namespace.name)", errno: -result))")
                }
            }
            attachments.removeAll()
            object.detach()
            departureRecorder.remove(slot: departureSlot)
            if ownsDepartureRecorder { departureRecorder.close() }
            ring = nil
            return errors
        }
    }

    /// One ring record (bpf/capture.h's nf_capture_record) → one cooked frame.
    private func append(_ record: UnsafeRawBufferPointer) {
        guard record.count >= Self.recordSize else { return }
        let monotonic = record.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        let interface = record.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        let length = Int(record.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let protocolType = record.loadUnaligned(fromByteOffset: 16, as: UInt16.self)
        let egress = record[18] == 1
        let captured = min(Int(record[19]), Self.keptBytes)
        gso.append(GSO(size: record.loadUnaligned(fromByteOffset: 20, as: UInt16.self),
                       segments: record.loadUnaligned(fromByteOffset: 22, as: UInt16.self)))
        scratch.withUnsafeMutableBytes { out in
            Self.writeCookedHeader(into: out, protocolType: protocolType, interfaceIndex: interface, outgoing: egress)
            out.baseAddress!.advanced(by: Self.cookedHeaderBytes)
                .copyMemory(from: record.baseAddress!.advanced(by: 24), byteCount: captured)
            sink.frames.append(timestamp: Int64(bitPattern: monotonic) + realtimeOffset, length: Self.cookedHeaderBytes + length,
                               bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<(Self.cookedHeaderBytes + captured)]))
        }
    }

    /// The interface index in a cooked frame's header, as `writeCookedHeader` wrote it
    /// (`frame` at least `cookedHeaderBytes` long).
    public static func cookedInterfaceIndex(_ frame: ArraySlice<UInt8>) -> UInt32 {
        frame[(frame.startIndex + 4)..<(frame.startIndex + 8)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// The LINUX_SLL2 header libpcap writes: protocol, reserved, interface index, ARPHRD_ETHER,
    /// packet type (PACKET_HOST 0 or PACKET_OUTGOING 4), no link-layer address. Big-endian.
    public static func writeCookedHeader(into out: UnsafeMutableRawBufferPointer, protocolType: UInt16, interfaceIndex: UInt32,
                                         outgoing: Bool) {
        for index in 0..<cookedHeaderBytes { out[index] = 0 }
        out.storeBytes(of: protocolType.bigEndian, toByteOffset: 0, as: UInt16.self)
        out.storeBytes(of: interfaceIndex.bigEndian, toByteOffset: 4, as: UInt32.self)
        out.storeBytes(of: UInt16(1).bigEndian, toByteOffset: 8, as: UInt16.self)
        out[10] = outgoing ? 4 : 0
    }
}
