import Foundation

/// Keeps each flow's segments in order across a veth link.
///
/// A veth hands each segment to the receive backlog of the CPU that sends it, and TCP sends
/// from more than one CPU: from the writer's `sendmsg`, and from the softirq that takes an
/// ACK, on the receiver's CPU. The two backlogs drain in parallel, so a link with no fault
/// delivers a bulk transfer out of order: a 400 MB transfer on 2 CPUs saw 448–949
/// out-of-order segments at the receiver and 85–738 spurious fast retransmissions, a wire
/// reordering that no fault asked for. Receive packet steering (RPS) hands every segment of a
/// flow to one CPU's backlog, chosen by the flow's hash, so a flow keeps its order (and
/// different flows still spread over the CPUs).
public enum ReceiveSteering {
    /// rps_cpus's value for CPUs 0 to `cpus` − 1: a hexadecimal bit mask in 32-bit groups,
    /// most significant first, separated by commas ("3" for 2 CPUs, "1,ffffffff" for 33).
    public static func mask(cpus: Int) -> String {
        let count = max(cpus, 1)
        let groups = (count + 31) / 32
        return (0..<groups).reversed().map { group -> String in
            let bits = min(count - group * 32, 32)
            let word: UInt32 = bits == 32 ? .max : (1 << UInt32(bits)) - 1
            return group == groups - 1 ? String(word, radix: 16) : String(word, radix: 16).leftPadded(to: 8)
        }.joined(separator: ",")
    }

    /// Steers each of `links`' received flows to one CPU of the machine's, by flow hash.
    /// Equivalent to `echo MASK > /sys/class/net/NAME/queues/rx-0/rps_cpus` for each link, in
    /// `ip netns exec` (netfault's veths have one receive queue). A kernel built without
    /// CONFIG_RPS has no rps_cpus: its links stay as the veth makes them.
    public static func keepFlowsInOrder(links: [String], in namespace: NetworkNamespace,
                                        cpus: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        guard !links.isEmpty else { return }
        let mask = mask(cpus: cpus)
        do {
            try Sys.sysfsWrite(inNamespace: namespace.fd, links.map { ("/sys/class/net/\($0)/queues/rx-0/rps_cpus", mask + "\n") },
                               operation: "echo \(mask) > rps_cpus of \(links.joined(separator: ", ")) in \(namespace.name)")
        } catch let error as KernelError where error.errno == ENOENT {
            return
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(width - count, 0)) + self }
}
