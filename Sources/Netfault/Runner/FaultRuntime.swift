import Foundation
import NetfaultKernel

/// Runs a `FaultPlan` against a built network: netem qdiscs, and per host a
/// queue, its rules and a thread that feeds the verdict engine and carries out
/// its verdicts. Everything it makes lives in the scenario's namespaces and
/// goes with them; `stop()` ends the threads and returns the decisions.
final class FaultRuntime: @unchecked Sendable {
    private let workers: [Worker]

    /// Installs the plan: qdiscs first, then for each host the queue binding before
    /// its rules (a queued packet with no listener would be dropped).
    init(plan: FaultPlan, network: Network, t0: Int64, seed: UInt64, queueTarget: QueueTarget) throws {
        for qdisc in plan.qdiscs {
            try network.namespace(qdisc.host)!.rtnetlink().perform([
                Rtnetlink.newNetem(interfaceIndex: qdisc.interfaceIndex, interface: qdisc.interface, options: qdisc.options)])
        }
        var workers: [Worker] = []
        for (offset, work) in plan.hosts.enumerated() {
            let namespace = network.namespace(work.host)!
            let queue = try NfqueueSocket(namespace: namespace, queue: 0, copyRange: work.copyRange)
            let injector = work.injects ? try PacketInjector(namespace: namespace, mark: FaultPlan.injectedMark) : nil
            try NftablesQueueRules.install(work.rules, queue: 0, target: queueTarget, skipMark: FaultPlan.injectedMark,
                                           in: namespace)
            let engine = VerdictEngine(host: work.host, faults: work.faults, impairments: work.impairments,
                                       seed: seed &+ UInt64(offset))
            workers.append(Worker(engine: engine, queue: queue, injector: injector, t0: t0))
        }
        self.workers = workers
        for worker in workers { worker.start() }
    }

    /// Stops every thread; returns all decisions in time order, and the first I/O error if one stopped a thread.
    func stop() -> (decisions: [FaultDecision], failure: String?) {
        let results = workers.map { $0.stop() }
        let decisions = results.flatMap(\.decisions).sorted { $0.time < $1.time }
        return (decisions, results.compactMap(\.failure).first)
    }
}

/// One host's queue loop. The engine is touched only by its thread until `stop()`.
private final class Worker: @unchecked Sendable {
    private var engine: VerdictEngine
    private let queue: NfqueueSocket
    private let injector: PacketInjector?
    private let t0: Int64
    private let lock = NSLock()
    private var stopRequested = false
    private var failure: String?
    private let done = DispatchSemaphore(value: 0)
    /// How often the loop looks at the stop flag when nothing arrives.
    private static let idleWakeMilliseconds: Int32 = 20

    init(engine: VerdictEngine, queue: NfqueueSocket, injector: PacketInjector?, t0: Int64) {
        self.engine = engine
        self.queue = queue
        self.injector = injector
        self.t0 = t0
    }

    private var now: Double { Double(MonotonicClock.now() - t0) / 1e9 }

    func start() {
        let thread = Thread { [self] in
            var actions: [VerdictAction] = []
            do {
                while !lock.withLock({ stopRequested }) {
                    var timeout = Self.idleWakeMilliseconds
                    if let deadline = engine.nextDeadline {
                        timeout = Int32(max(0, min(Double(timeout), ((deadline - now) * 1000).rounded(.up))))
                    }
                    actions.removeAll(keepingCapacity: true)
                    var time: Double?
                    // Borrowed views: no copy of a packet unless a fault keeps it.
                    try queue.receive(timeoutMilliseconds: timeout) { packet in
                        let arrival = time ?? now
                        time = arrival
                        let egress = packet.hook == Self.postRouting
                        engine.handle(EnginePacket(id: packet.id, egress: egress,
                                                   interfaceIndex: egress ? packet.outputInterface : packet.inputInterface,
                                                   bytes: packet.payload, length: packet.packetLength),
                                      at: arrival, into: &actions)
                    }
                    engine.advance(to: now, into: &actions)
                    try carryOut(actions)
                }
            } catch {
                lock.withLock { failure = "fault engine on \(engine.host): \(error)" }
            }
            done.signal()
        }
        thread.name = "netfault faults \(engine.host)"
        thread.start()
    }

    /// NF_INET_POST_ROUTING: where faults act; other hooks only observe.
    private static let postRouting: UInt8 = 4

    /// Sends the verdicts in one datagram, in the engine's order. A batch verdict
    /// reinjects every packet up to an id in queue (id) order, so the accepts become
    /// one only when nothing is held and the engine's order is the id order; otherwise
    /// each packet gets its own verdict, and held or reordered ones keep their place.
    /// Copies go last, behind the packets they copy.
    private func carryOut(_ actions: [VerdictAction]) throws {
        guard !actions.isEmpty else { return }
        var copies: [[UInt8]] = []
        if !engine.isHolding, let highest = VerdictAction.highestBatchableAccept(in: actions) {
            for case .drop(let id) in actions { try queue.stageVerdict(id, .drop) }
            try queue.stageVerdict(upTo: highest, .accept)
        } else {
            for action in actions {
                switch action {
                case .accept(let id): try queue.stageVerdict(id, .accept)
                case .drop(let id): try queue.stageVerdict(id, .drop)
                case .acceptReplacing(let id, let bytes): try queue.stageVerdict(id, .accept, payload: bytes)
                case .inject(let bytes): copies.append(bytes)
                }
            }
        }
        try queue.flushVerdicts()
        for copy in copies { try injector?.send(copy) }
    }

    func stop() -> (decisions: [FaultDecision], failure: String?) {
        lock.withLock { stopRequested = true }
        done.wait()
        return (engine.decisions, lock.withLock { failure })
    }
}
