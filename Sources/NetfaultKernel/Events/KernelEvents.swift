import Foundation

/// The kernel's TCP events for every scenario of this process: bpf/tcp_events.bpf.c loaded
/// once, on first use (loading took 30–180 ms here, BTF and the verifier), its programs
/// attached only while a subscription lives (every device's segments pass two of them, so
/// the machine pays nothing between runs or in runs without events), and one thread polling
/// the ring buffer and handing each event to the subscription of its namespace.
public final class KernelEvents: @unchecked Sendable {
    /// Loaded on first use, or why not: no BTF, no privilege, a kernel without these
    /// tracepoints, a verifier refusal.
    public static let shared: Result<KernelEvents, KernelEventsUnavailable> = load()

    /// enum skb_drop_reason of this kernel, without the SKB_DROP_REASON_ prefix.
    public let dropReasons: [UInt32: String]
    /// enum sk_rst_reason of this kernel (6.10+), without the SK_RST_REASON_ prefix.
    public let resetReasons: [UInt32: String]
    /// How long loading and attaching took, in seconds.
    public let loadSeconds: Double
    /// How many programs attach (tracepoints and the departure stamps).
    public let programCount: Int
    /// How many are attached now: all while a subscription lives, else none.
    var attachedNow: Int { condition.withLock { object.attachedCount } }

    private let object: BPFObject
    private let filterFD: Int32
    private let lostFD: Int32
    private var ring: BPFRingBuffer?
    private let condition = NSCondition()
    private var subscriptions: [UInt32: EventSubscription] = [:]
    /// Subscriptions not yet finished: the programs are attached while there is one.
    private var live: Set<ObjectIdentifier> = []
    /// Completed polls: a poll that began after a moment has consumed everything before it.
    private var polls: UInt64 = 0
    private var pollFailure: String?

    /// Where the ring buffer is polled: at most this long passes between an event and its delivery.
    static let pollMilliseconds: Int32 = 10

    /// `started`: when loading began (CLOCK_MONOTONIC ns).
    private init(object: BPFObject, started: Int64) throws {
        self.object = object
        // Attached once here so that a program the kernel will not attach is reported at load
        // (doctor, the fallback to sampling), not in the middle of a run.
        programCount = try object.attach()
        object.detach()
        loadSeconds = Double(MonotonicClock.now() - started) / 1e9
        filterFD = try object.mapFD("netns_filter")
        lostFD = try object.mapFD("lost")
        dropReasons = KernelEnumNames.names(of: "skb_drop_reason", droppingPrefix: "SKB_DROP_REASON_")
        resetReasons = KernelEnumNames.names(of: "sk_rst_reason", droppingPrefix: "SK_RST_REASON_")
        ring = try BPFRingBuffer(mapFD: try object.mapFD("events")) { [unowned self] bytes in deliver(bytes) }
    }

    private static func load() -> Result<KernelEvents, KernelEventsUnavailable> {
        guard Sys.fileExists("/sys/kernel/btf/vmlinux") else {
            return .failure(KernelEventsUnavailable("the kernel has no BTF (/sys/kernel/btf/vmlinux): CONFIG_DEBUG_INFO_BTF is off"))
        }
        let started = MonotonicClock.now()
        do {
            guard let bytes = Data(base64Encoded: TCPEventsObject.base64) else {
                return .failure(KernelEventsUnavailable("the embedded BPF object is corrupt"))
            }
            let object = try BPFObject(bytes: Array(bytes), name: "tcp_events")
            let events = try KernelEvents(object: object, started: started)
            events.startPolling()
            return .success(events)
        } catch let error as BPFError where error.errno == EPERM || error.errno == EACCES {
            return .failure(KernelEventsUnavailable("loading BPF programs was refused (needs root, or CAP_BPF and CAP_PERFMON): \(error)"))
        } catch {
            return .failure(KernelEventsUnavailable("\(error)"))
        }
    }

    /// Starts delivering the events of these namespaces (by inode) to a new subscription.
    public func subscribe(namespaces: [UInt32]) throws -> EventSubscription {
        let subscription = EventSubscription(events: self, namespaces: namespaces, lostAtStart: lostCount())
        try condition.withLock {
            if live.isEmpty { try object.attach() }
            live.insert(ObjectIdentifier(subscription))
            for inode in namespaces { subscriptions[inode] = subscription }
        }
        do {
            for inode in namespaces { try BPFObject.update(map: filterFD, key: inode, value: 1) }
        } catch {
            _ = finish(subscription)
            throw error
        }
        return subscription
    }

    /// Stops a subscription's namespaces and waits until every event they made before now
    /// has been delivered (two polls that began after this call).
    func finish(_ subscription: EventSubscription) -> String? {
        for inode in subscription.namespaces { BPFObject.delete(map: filterFD, key: inode) }
        return condition.withLock {
            let target = polls + 2
            while polls < target && pollFailure == nil { condition.wait() }
            for inode in subscription.namespaces where subscriptions[inode] === subscription { subscriptions[inode] = nil }
            // Finishing twice (a failed finish, then the cleanup's) must not detach another's programs.
            if live.remove(ObjectIdentifier(subscription)) != nil && live.isEmpty { object.detach() }
            return pollFailure
        }
    }

    /// What the programs cost while `body` ran: per program, its runs and the CPU time spent
    /// in it (the kernel's own run-time accounting, not counting the tracepoint's call into it).
    public func programCost<T>(during body: () throws -> T) throws -> (result: T, programs: [ProgramCost]) {
        try BPFObject.withRunTimeStats {
            let before = object.programStats()
            let result = try body()
            let after = object.programStats()
            return (result, zip(before, after).map {
                ProgramCost(program: $1.program, runs: $1.runs - $0.runs, nanoseconds: $1.nanoseconds - $0.nanoseconds)
            })
        }
    }

    /// Events the programs could not write because the ring buffer was full, since loading.
    func lostCount() -> UInt64 { BPFObject.lookupU64(map: lostFD, key: 0) ?? 0 }

    private func startPolling() {
        let thread = Thread { [self] in
            while true {
                do {
                    try ring!.poll(timeoutMilliseconds: Self.pollMilliseconds)
                } catch {
                    condition.withLock { pollFailure = "\(error)"; condition.broadcast() }
                    return
                }
                condition.withLock { polls += 1; condition.broadcast() }
            }
        }
        thread.name = "netfault events"
        thread.start()
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer) {
        guard let event = TCPEventDecoder.decode(bytes) else { return }
        condition.withLock { subscriptions[event.netns]?.append(event) }
    }
}

/// One scenario's events: those of its namespaces, from `subscribe` to `finish`.
public final class EventSubscription: @unchecked Sendable {
    /// Bounds memory whatever a scenario's programs do: ~100 bytes an event.
    static let maximumEvents = 200_000

    let namespaces: [UInt32]
    private unowned let events: KernelEvents
    private let lostAtStart: UInt64
    /// Guarded by the KernelEvents lock.
    private var collected: [TCPEvent] = []
    private var overflow = 0

    init(events: KernelEvents, namespaces: [UInt32], lostAtStart: UInt64) {
        self.events = events
        self.namespaces = namespaces
        self.lostAtStart = lostAtStart
    }

    func append(_ event: TCPEvent) {
        if collected.count < Self.maximumEvents { collected.append(event) } else { overflow += 1 }
    }

    /// The events in time order, and how many were lost (ring buffer full, anywhere on the
    /// machine while this ran, or beyond this subscription's bound). Throws if polling failed.
    public func finish() throws -> (events: [TCPEvent], lost: Int) {
        if let failure = events.finish(self) { throw KernelEventsUnavailable("polling the ring buffer failed: \(failure)") }
        let lost = Int(events.lostCount() - lostAtStart) + overflow
        return (collected.sorted { $0.time < $1.time }, lost)
    }
}

/// Why kernel events are not observed on this machine; scenarios run on sampling alone.
public struct KernelEventsUnavailable: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
