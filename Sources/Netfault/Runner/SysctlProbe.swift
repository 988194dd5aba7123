import Glibc
import NetfaultKernel

/// Tries every sysctl of a scenario in a scratch namespace, so an unknown name
/// or a value the kernel rejects is reported at the scenario's line before
/// anything of the scenario is built. The scratch namespace is gone on return.
public enum SysctlProbe {
    /// Every sysctl of the scenario tried in a scratch namespace: the errors, each at its line.
    public static func check(_ scenario: Scenario) throws -> [ScenarioError] {
        guard !scenario.sysctls.isEmpty else { return [] }
        let scratch = try NetworkNamespace(name: "sysctl-probe")
        var errors: [ScenarioError] = []
        for sysctl in scenario.sysctls {
            do {
                try SysctlAccess.write(sysctl.name, sysctl.value, in: scratch)
            } catch let error as KernelError where error.errno == ENOENT {
                errors.append(ScenarioError(sysctl.location, "sysctl \(sysctl.name) does not exist on this kernel (\(MachineInfo.kernelRelease))"))
            } catch let error as KernelError {
                errors.append(ScenarioError(sysctl.location, "the kernel rejects \(sysctl.name) = \(sysctl.value): \(error.errnoName)"))
            }
        }
        return errors
    }
}
