import Foundation
import NetfaultKernel

/// Samples every TCP socket of every host through sock_diag on a thread of its
/// own, and keeps per-socket state transitions. A dump of a few sockets costs
/// 80–220 µs here, so sampling every millisecond is affordable where reading
/// /proc/net/tcp (≥ 3.3 ms a read) would not be.
final class SocketSampler: @unchecked Sendable {
    private let sources: [(host: String, socket: NetlinkSocket)]
    private let families: [Int32]
    private let t0: Int64
    private let interval: Int64
    private let lock = NSLock()
    private var stopRequested = false
    private var sockets: [SocketKey: ObservedSocket] = [:]
    private var order: [SocketKey] = []
    private var current: [SocketKey: SocketRecord] = [:]
    private var failure: Error?
    /// Per host, when its previous dump started: a change first seen now happened after it.
    private var previousDumpStart: [String: Double] = [:]
    private let done = DispatchSemaphore(value: 0)
    private(set) var sampleCount = 0
    /// The most the kernel's tick lagged the clock at any sample (KernelTick.lag).
    private(set) var largestTickLag = 0.0

    /// Limit per socket, so a long scenario cannot grow memory without bound.
    private static let maximumSamplesPerSocket = 20_000

    init(network: Network, ipv6: Bool, t0: Int64, intervalSeconds: Double) throws {
        sources = try network.hostNames.map { host in
            (host, try NetlinkSocket.sockDiag(in: network.namespace(host)!))
        }
        families = ipv6 ? [AF_INET, AF_INET6] : [AF_INET]
        self.t0 = t0
        interval = Int64(intervalSeconds * 1e9)
    }

    func start() {
        let thread = Thread { [self] in
            var next = MonotonicClock.now()
            while !lock.withLock({ stopRequested }) {
                sampleOnce()
                next += interval
                let now = MonotonicClock.now()
                if next > now { MonotonicClock.sleep(nanoseconds: next - now) } else { next = now }
            }
            sampleOnce()  // the state at the very end
            done.signal()
        }
        thread.name = "netfault sampler"
        thread.start()
    }

    /// Stops sampling and returns every socket seen, in order of appearance.
    func stop() throws -> [ObservedSocket] {
        lock.withLock { stopRequested = true }
        done.wait()
        return try lock.withLock {
            if let failure { throw failure }
            return order.compactMap { sockets[$0] }
        }
    }

    /// The states of matching sockets right now, and whether any was ever seen (for WaitFor).
    func currentStates(_ selector: SocketSelector) -> (states: [TCPState], seen: Bool) {
        lock.withLock {
            let states = current.compactMap { key, record in
                sockets[key]!.matches(selector) ? record.state : nil
            }
            return (states, sockets.values.contains { $0.matches(selector) })
        }
    }

    /// One dump per host, each bracketed by clock readings: a change first seen in a dump
    /// happened after the start of that host's previous dump and before the end of this one
    /// (a dump can take milliseconds on a loaded machine, so the bracket is per host).
    private func sampleOnce() {
        let tickLag = KernelTick.lag()
        var seen: [SocketKey: SocketRecord] = [:]
        var dumpEnd: [String: Double] = [:], dumpStart: [String: Double] = [:]
        do {
            for source in sources {
                dumpStart[source.host] = elapsed()
                for family in families {
                    for record in try SockDiag.dump(source.socket, family: family) {
                        seen[SocketKey(host: source.host, local: record.local, remote: record.remote)] = record
                    }
                }
                dumpEnd[source.host] = elapsed()
            }
        } catch {
            lock.withLock { failure = failure ?? error; stopRequested = true }
            return
        }
        lock.withLock {
            sampleCount += 1
            largestTickLag = max(largestTickLag, tickLag)
            for (key, record) in seen {
                let time = dumpEnd[key.host]!
                var earliest = previousDumpStart[key.host] ?? 0
                let previous = current[key]
                if previous == nil && sockets[key] == nil {
                    sockets[key] = ObservedSocket(host: key.host, local: key.local, remote: key.remote, transitions: [], samples: [])
                    order.append(key)
                }
                if previous == nil, Self.missedTimewaitHandoff(sockets[key]!.transitions, reappearingAs: record.state) {
                    // The handoff began before the dump that missed it.
                    earliest = sockets[key]!.transitions.removeLast().earliest
                }
                if previous?.state != record.state {
                    sockets[key]!.transitions.append(ObservedTransition(time: time, earliest: earliest, state: record.state))
                }
                if previous.map({ Self.reportableChange(from: $0, to: record) }) ?? true,
                   sockets[key]!.samples.count < Self.maximumSamplesPerSocket {
                    sockets[key]!.samples.append((time, record))
                }
            }
            for key in current.keys where seen[key] == nil {
                sockets[key]!.transitions.append(ObservedTransition(time: dumpEnd[key.host]!, earliest: previousDumpStart[key.host] ?? 0,
                                                                    state: .close))
            }
            current = seen
            previousDumpStart = dumpStart
        }
    }

    private func elapsed() -> Double { Double(MonotonicClock.now() - t0) / 1e9 }

    /// Whether a socket one dump missed, listed again now in `state`, never closed: the dump came
    /// while the kernel handed it over to a timewait socket. Older kernels (5.10's
    /// inet_twsk_hashdance) put the timewait socket in the hash in place of the full one and set
    /// its refcount only after releasing the bucket's lock, and a dump skips a socket whose
    /// refcount is 0; seen once in C1 on 5.10 as FIN_WAIT1, CLOSE, FIN_WAIT2. The handoff is out of FIN_WAIT1 (on the ACK of an
    /// orphan's FIN, which enters FIN_WAIT2 first), FIN_WAIT2 or CLOSING (or ESTABLISHED, when
    /// the close began after the last sample), into an orphan's FIN_WAIT2 or TIME_WAIT. A new
    /// connection on the 4-tuple comes back as SYN_SENT or SYN_RECV, and a TIME_WAIT socket is
    /// never handed over.
    static func missedTimewaitHandoff(_ transitions: [ObservedTransition], reappearingAs state: TCPState) -> Bool {
        guard [.finWait2, .timeWait].contains(state), transitions.count >= 2,
              transitions[transitions.count - 1].state == .close else { return false }
        return [.established, .finWait1, .finWait2, .closing].contains(transitions[transitions.count - 2].state)
    }

    /// Whether a sample is worth keeping: anything but the timer counting down.
    private static func reportableChange(from old: SocketRecord, to new: SocketRecord) -> Bool {
        old.state != new.state || old.timer != new.timer || old.retransmits != new.retransmits
            || old.info != new.info || new.expiresMilliseconds > old.expiresMilliseconds
    }
}

