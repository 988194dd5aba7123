import Glibc

/// Facts about the running machine that `doctor` and the reports show.
public enum MachineInfo {
    /// `uname -r`
    public static var kernelRelease: String { Sys.kernelRelease() }

    /// Whether a sysctl exists in a new namespace's view (read-only look at /proc/sys).
    public static func hasSysctl(_ name: String) -> Bool { Sys.fileExists(SysctlAccess.path(of: name)) }

    public static func fileExists(_ path: String) -> Bool { Sys.fileExists(path) }

    /// The hypervisor's CPUID signature ("KVMKVMKVM", "TCGTCGTCGTCG" under QEMU's emulation,
    /// "Microsoft Hv" …); nil on bare metal, where CPUID's hypervisor bit is clear, or off x86.
    public static var hypervisorSignature: String? { Sys.hypervisorSignature() }

    public static func readFile(_ path: String) -> String? { Sys.readFile(path) }
}

public enum Privileges {
    static let capNetAdmin: UInt64 = 1 << 12
    static let capSysAdmin: UInt64 = 1 << 21

    /// Root, or both capabilities in the effective set (/proc/self/status CapEff).
    public static var canManageNetworks: Bool {
        if Sys.effectiveUserID() == 0 { return true }
        guard let status = Sys.readFile("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
              let mask = UInt64(line.dropFirst("CapEff:".count).trimmingPrefixWhitespace, radix: 16) else { return false }
        return mask & capNetAdmin != 0 && mask & capSysAdmin != 0
    }
}

private extension Substring {
    var trimmingPrefixWhitespace: Substring { drop { $0 == " " || $0 == "\t" } }
}
