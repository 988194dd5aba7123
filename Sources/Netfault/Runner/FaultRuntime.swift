import Foundation
import NetfaultKernel

/// Runs a `FaultPlan` against a built network: netem qdiscs; for each host whose
/// faults run in the kernel, fq root qdiscs where it holds packets and a `TCFaultEngine`
/// attached to its interfaces, with a thread reading its decisions; for the others a
/// queue, its rules and a thread that feeds the verdict engine and carries out its
/// verdicts. Everything it makes lives in the scenario's namespaces and goes with them
/// (the engines' programs and maps with their objects, freed by `stop()` or the process's
/// end); `stop()` ends the threads and returns the decisions.
final class FaultRuntime: @unchecked Sendable {
    private var workers: [Worker] = []
    private var kernelWorkers: [KernelWorker] = []

    /// Installs the plan: qdiscs first (fq before the programs that set departure times),
    /// then for each host its engine. For NFQUEUE, the queue binding before its rules (a
    /// queued packet with no listener would be dropped). On an error, what was started stops.
    init(plan: FaultPlan, network: Network, t0: Int64, seed: UInt64, queueTarget: QueueTarget) throws {
        do {
            for qdisc in plan.qdiscs {
                try network.namespace(qdisc.host)!.rtnetlink().perform([
                    Rtnetlink.newNetem(interfaceIndex: qdisc.interfaceIndex, interface: qdisc.interface, options: qdisc.options)])
            }
            for (offset, work) in plan.hosts.enumerated() {
                let namespace = network.namespace(work.host)!
                let hostSeed = seed &+ UInt64(offset)
                if case .kernel = work.engine {
                    // A corrupted packet must fail the receiver's checksum: both ends sum and check in software.
                    for interface in work.interfaces where interface.corrupts {
                        try LinkOffloads.disableChecksumOffload(links: [interface.name], in: namespace)
                        if let peer = interface.peerHost, let name = interface.peerInterface, let other = network.namespace(peer) {
                            try LinkOffloads.disableChecksumOffload(links: [name], in: other)
                        }
                    }
                    kernelWorkers.append(try KernelWorker.start(work, namespace: namespace, network: network, seed: hostSeed, t0: t0))
                    continue
                }
                let queue = try NfqueueSocket(namespace: namespace, queue: 0, copyRange: work.copyRange)
                let injector = work.injects ? try PacketInjector(namespace: namespace, mark: FaultPlan.injectedMark) : nil
                try NftablesQueueRules.install(work.rules, queue: 0, target: queueTarget, skipMark: FaultPlan.injectedMark,
                                               in: namespace)
                let engine = VerdictEngine(host: work.host, faults: work.faults, impairments: work.impairments, seed: hostSeed)
                workers.append(Worker(engine: engine, queue: queue, injector: injector, t0: t0))
            }
        } catch {
            // The queue workers have not started; the kernel engines have (their readers run).
            for worker in kernelWorkers { _ = worker.detachPeers() }
            for worker in kernelWorkers { _ = worker.stop() }
            kernelWorkers = []
            workers = []
            throw error
        }
        for worker in workers { worker.start() }
    }

    /// Stops every thread and closes the kernel engines (their programs detach, their maps go);
    /// returns all decisions in time order, the first error if one stopped an engine, and the
    /// kernel engines' program costs (runs and run time, counted while BPF stats are on).
    func stop() -> (decisions: [FaultDecision], failure: String?) {
        // Every engine's programs on other hosts' links first: a closing engine removes the
        // clsact qdiscs it created, and other engines' filters with them.
        let peerErrors = kernelWorkers.flatMap { $0.detachPeers() }
        var results = workers.map { $0.stop() } + kernelWorkers.map { $0.stop() }
        if !peerErrors.isEmpty { results.append(([], peerErrors.joined(separator: "; "))) }
        workers = []
        kernelWorkers = []
        let decisions = results.flatMap(\.decisions).sorted { $0.time < $1.time }
        return (decisions, results.compactMap(\.failure).first)
    }

    /// The kernel engines' programs, their runs and run time so far (`bench faults`).
    func programStats() -> [ProgramCost] {
        kernelWorkers.flatMap { $0.engine.programStats() }
    }
}

/// One host's tc engine and the thread that reads its decisions into the report's form,
/// at the kernel's instants.
private final class KernelWorker: @unchecked Sendable {
    let engine: TCFaultEngine
    private let host: String
    private let names: KernelFaultNames
    private let t0: Int64
    private let lock = NSLock()
    private var stopRequested = false
    private var decisions: [FaultDecision] = []
    private var failure: String?
    private let done = DispatchSemaphore(value: 0)
    /// How long one poll waits: how late the thread sees the stop flag at most.
    private static let pollMilliseconds: Int32 = 20

    private init(engine: TCFaultEngine, host: String, names: KernelFaultNames, t0: Int64) {
        self.engine = engine
        self.host = host
        self.names = names
        self.t0 = t0
    }

    /// fq on the interfaces that hold packets, then the engine, attached to each interface
    /// (egress, and ingress where an ACK of the other side's FIN is looked for) and, where it acts
    /// on segments inside GSO packets, to the other end of the link (rules on any segment) or to
    /// a detour of the host's own (only a packet's last segment), then its reader.
    static func start(_ work: FaultPlan.HostWork, namespace: NetworkNamespace, network: Network, seed: UInt64,
                      t0: Int64) throws -> KernelWorker {
        let fq = work.interfaces.compactMap { interface in
            interface.fq.map { Rtnetlink.newFQ(interfaceIndex: interface.index, interface: interface.name, options: $0) }
        }
        if !fq.isEmpty { try namespace.rtnetlink().perform(fq) }
        let kernel = KernelHostPlan(work, fqAvailable: work.interfaces.contains { $0.fq != nil })
        guard kernel.runsInKernel else {
            // FaultPlan chose the kernel with the same conversion: this is a bug, said plainly.
            throw EnvironmentError("the in-kernel engine cannot take \(work.host)'s faults: \(kernel.reasons.joined(separator: "; "))")
        }
        let engine = try TCFaultEngine(rules: kernel.rules, impairments: kernel.impairments, seed: seed, t0: t0,
                                       skipMark: FaultPlan.injectedMark)
        do {
            // Only the ACK-of-FIN kind needs what arrives (the other side's FIN): the ingress program costs every arrival.
            let observingIngress = kernel.rules.contains { $0.kind == .finAck }
            for interface in work.interfaces {
                try engine.attach(interfaceIndex: interface.index, name: interface.name, in: namespace,
                                  observingIngress: observingIngress)
                guard interface.handsOver else { continue }
                if !engine.decidesEverySegment {
                    // Only a GSO packet's last segment (a FIN's) can be acted on: the rare packet detours.
                    try engine.attachDetour(interfaceIndex: interface.index, name: interface.name, in: namespace)
                } else if let peer = interface.peerHost.flatMap(network.namespace), let index = interface.peerIndex,
                          let name = interface.peerInterface {
                    // The peer's ingress sees the segments one by one because Network makes every
                    // link with segmentation offloads off (LinkOffloads.disable).
                    try engine.attachPeer(interfaceIndex: index, name: name, in: peer)
                }
            }
        } catch {
            engine.close()
            throw error
        }
        let worker = KernelWorker(engine: engine, host: work.host, names: KernelFaultNames(work), t0: t0)
        worker.run()
        return worker
    }

    /// Detaches the engine's programs on other hosts' links; their errors, said per host.
    func detachPeers() -> [String] {
        engine.detachPeers().map { "fault engine in the kernel on \(host): \($0)" }
    }

    private func run() {
        let thread = Thread { [self] in
            do {
                while !lock.withLock({ stopRequested }) {
                    take(try engine.poll(timeoutMilliseconds: Self.pollMilliseconds))
                }
            } catch {
                lock.withLock { failure = "fault engine in the kernel on \(host): \(error)" }
            }
            done.signal()
        }
        thread.name = "netfault kernel faults \(host)"
        thread.start()
    }

    private func take(_ records: [KernelFaultDecision]) {
        guard !records.isEmpty else { return }
        let converted = records.map { record -> FaultDecision in
            var decision = FaultDecision(record, host: host, names: names, t0: t0)
            decision.decidedInKernel = true
            return decision
        }
        lock.withLock { decisions += converted }
    }

    /// Stops the reader, takes what is left in the ring, then detaches and frees the engine.
    func stop() -> (decisions: [FaultDecision], failure: String?) {
        lock.withLock { stopRequested = true }
        done.wait()
        if let rest = try? engine.poll(timeoutMilliseconds: 0) { take(rest) }
        let lost = engine.lostDecisions
        let closeErrors = engine.close()
        return lock.withLock {
            var problems = failure.map { [$0] } ?? []
            if lost > 0 { problems.append("fault engine in the kernel on \(host): \(lost) decisions lost (its ring was full)") }
            problems += closeErrors.map { "fault engine in the kernel on \(host): \($0)" }
            return (decisions, problems.isEmpty ? nil : problems.joined(separator: "; "))
        }
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
