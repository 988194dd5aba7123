import NetfaultKernel

/// How many scenarios run at once when the command line does not say: the command's usual
/// number, or one at a time where the CPU is emulated (QEMU without KVM, as `scripts/in-vm`
/// runs guests on machines whose KVM does not work). Emulated vCPUs run guest code many times
/// slower and share the host's cores: four scenarios at once there made children's SYN_RECV
/// last 2.4–5.5 ms against a 1 ms bound and a SYN leave 150 ms late (5.10 and 7.2, 2026-12-07),
/// while one at a time passed. A hardware-virtualized guest (KVM) is not emulated.
public enum ParallelDefault {
    /// The choice and, where it differs from the usual number, the sentence that says why.
    public struct Choice: Equatable, Sendable {
        /// How many scenarios run at once.
        public var parallel: Int
        /// Why it is not the usual number (printed on stderr), nil when it is.
        public var note: String?
    }

    /// CPUID hypervisor signatures of CPU emulators: QEMU's TCG.
    static let emulators: [String: String] = ["TCGTCGTCGTCG": "QEMU's TCG"]

    /// `requested` (the `--parallel` given) wins; otherwise `usual`, or 1 under an emulator.
    public static func choose(requested: Int?, usual: Int, hypervisor: String?) -> Choice {
        if let requested { return Choice(parallel: requested, note: nil) }
        guard let hypervisor, let emulator = emulators[hypervisor], usual > 1 else { return Choice(parallel: usual, note: nil) }
        return Choice(parallel: 1, note: "the CPU is emulated (\(emulator)): running one at a time, "
                          + "since \(usual) at once miss their timers there (--parallel N overrides)")
    }

    /// `choose` with this machine's CPUID signature.
    public static func here(requested: Int?, usual: Int) -> Choice {
        choose(requested: requested, usual: usual, hypervisor: requested == nil ? MachineInfo.hypervisorSignature : nil)
    }
}
