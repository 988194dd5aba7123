import NetfaultKernel

/// The machine cannot run scenarios (exit code 3): what is missing.
public struct EnvironmentError: Error, CustomStringConvertible, Sendable {
    /// What is missing, in words.
    public let message: String
    /// An environment error saying `message`.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks that this machine can run scenarios, before anything is built.
public enum EnvironmentCheck {
    /// Root, or CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces, mounts), effective.
    public static func requirePrivileges() throws {
        if !Privileges.canManageNetworks {
            throw EnvironmentError("netfault needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) to create network namespaces; run it with sudo")
        }
    }

    /// Network namespaces, veth pairs and sock_diag, each tried in a scratch namespace:
    /// without them no scenario can be built or observed.
    /// Probed once per process.
    public static func requireCoreFeatures() throws {
        if let coreFeatureProblem { throw EnvironmentError(coreFeatureProblem) }
    }

    private static let coreFeatureProblem: String? = {
        let missing = [KernelProbes.namespaces(), KernelProbes.veth(), KernelProbes.sockDiag()].filter { !$0.present }
        guard !missing.isEmpty else { return nil }
        return "this kernel (\(MachineInfo.kernelRelease)) lacks what every scenario needs: "
            + missing.map { "\($0.name): \($0.detail)" }.joined(separator: "; ")
    }()
}
