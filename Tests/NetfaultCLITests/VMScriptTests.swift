import Foundation
import Testing
import Netfault

/// scripts/kvm-probe, scripts/in-vm and scripts/kernel-matrix with fakes in place of QEMU,
/// virtme-ng and the VM: the KVM probe's fallbacks and what in-vm says about them, a status
/// virtme-ng lost, and the matrix's one retry of a VM that stopped. No VM boots; no root.
@Suite struct VMScriptTests {
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let busybox = FileManager.default.isExecutableFile(atPath: "/bin/busybox")

    struct Shell {
        let status: Int32
        let stdout: String
        let stderr: String
        var description: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// A scratch folder with executable scripts in it, removed afterwards.
    final class Scratch {
        let url: URL
        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-vm-scripts-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
        deinit { try? FileManager.default.removeItem(at: url) }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        @discardableResult func script(_ name: String, _ body: String) throws -> String {
            try ("#!/usr/bin/env bash\n" + body).write(toFile: path(name), atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path(name))
            return path(name)
        }
        func read(_ name: String) -> String { (try? String(contentsOfFile: path(name), encoding: .utf8)) ?? "" }
    }

    static func run(_ arguments: [String], environment: [String: String], in directory: URL = package) throws -> Shell {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("netfault-vm-out-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Shell(status: process.terminationStatus,
                     stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                     stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// A fake QEMU: counts its runs, then fails as these machines' KVM does, hangs, or boots
    /// (writes the probe's mark to the serial file it is given).
    func fakeQEMU(_ scratch: Scratch, _ behaviour: String) throws -> String {
        try scratch.script("qemu", """
            echo run >>'\(scratch.path("qemu-runs"))'
            case '\(behaviour)' in
                msr) echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
                     echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3233: kvm_buf_set_msrs: Assertion failed." >&2
                     kill -ABRT $$ ;;
                hang) exec sleep 30 ;;
                boots) for argument in "$@"; do
                           [[ $argument == file:* ]] && echo "in-vm-kvm-probe: init reached" >"${argument#file:}"
                       done ;;
            esac
            """)
    }

    func probeEnvironment(_ scratch: Scratch, qemu: String, device: String? = nil) -> [String: String] {
        FileManager.default.createFile(atPath: scratch.path("kvm"), contents: nil)
        return ["IN_VM_QEMU": qemu, "IN_VM_KVM_DEVICE": device ?? scratch.path("kvm"), "NETFAULT_VM_HOME": scratch.path("home"),
                "IN_VM_BOOT_ID": "boot-1", "IN_VM_KVM": ""]
    }

    @Test(.enabled(if: busybox, "needs a static busybox at /bin/busybox (scripts/vm-deps.sh installs it)"))
    func aKVMThatFailsFallsBackToEmulationWithQEMUsReasonOncePerBoot() throws {
        let scratch = try Scratch()
        let environment = probeEnvironment(scratch, qemu: try fakeQEMU(scratch, "msr"))
        let first = try Self.run(["bash", "scripts/kvm-probe", scratch.path("vmlinuz")], environment: environment)
        #expect(first.status == 0 && first.stdout == "tcg failed to set MSR 0x10a to 0x69\n", "\(first.description)")
        #expect(first.stderr.isEmpty, "QEMU's abort is not reported by bash: \(first.description)")
        let second = try Self.run(["bash", "scripts/kvm-probe", scratch.path("vmlinuz")], environment: environment)
        #expect(second.stdout == "tcg failed to set MSR 0x10a to 0x69; probed earlier in this boot\n", "\(second.description)")
        #expect(scratch.read("qemu-runs") == "run\n", "the cached answer runs no QEMU")
        var nextBoot = environment
        nextBoot["IN_VM_BOOT_ID"] = "boot-2"
        _ = try Self.run(["bash", "scripts/kvm-probe", scratch.path("vmlinuz")], environment: nextBoot)
        #expect(scratch.read("qemu-runs") == "run\nrun\n", "another boot probes again")
    }

    @Test(.enabled(if: busybox, "needs a static busybox at /bin/busybox (scripts/vm-deps.sh installs it)"))
    func aKVMGuestThatHangsIsStoppedByTheTimeout() throws {
        let scratch = try Scratch()
        var environment = probeEnvironment(scratch, qemu: try fakeQEMU(scratch, "hang"))
        environment["IN_VM_KVM_PROBE_TIMEOUT"] = "1"
        let started = Date()
        let result = try Self.run(["bash", "scripts/kvm-probe", scratch.path("vmlinuz")], environment: environment)
        #expect(result.stdout == "tcg a KVM guest did not reach its init in 1 s\n", "\(result.description)")
        // 1 s of timeout, at most 2 s more if QEMU ignored TERM (-k 2), plus bash and cp: 6 s is ample.
        #expect(Date().timeIntervalSince(started) < 6)
    }

    @Test(.enabled(if: busybox, "needs a static busybox at /bin/busybox (scripts/vm-deps.sh installs it)"))
    func aKVMGuestThatReachesItsInitMeansKVM() throws {
        let scratch = try Scratch()
        let result = try Self.run(["bash", "scripts/kvm-probe", scratch.path("vmlinuz")],
                                  environment: probeEnvironment(scratch, qemu: try fakeQEMU(scratch, "boots")))
        #expect(result.stdout == "kvm\n", "\(result.description)")
    }

    @Test func noDeviceNeedsNoQEMU() throws {
        let scratch = try Scratch()
        let result = try Self.run(["bash", "scripts/kvm-probe", scratch.path("vmlinuz")],
                                  environment: probeEnvironment(scratch, qemu: try fakeQEMU(scratch, "boots"), device: scratch.path("no-kvm")))
        #expect(result.stdout == "tcg no \(scratch.path("no-kvm"))\n", "\(result.description)")
        #expect(scratch.read("qemu-runs").isEmpty)
    }

    // MARK: - in-vm with a fake virtme-ng

    /// virtme-ng's `vng` as in-vm calls it: answers --version (scripts/vm-deps.sh asks), records
    /// its arguments, runs the guest's command line on this machine, and exits as told.
    func fakeVirtme(_ scratch: Scratch, exit: String) throws -> [String: String] {
        try FileManager.default.createDirectory(atPath: scratch.path("home/venv/bin"), withIntermediateDirectories: true)
        try scratch.script("home/venv/bin/vng", """
            [[ $1 == --version ]] && { echo "virtme-ng 1.42"; exit 0; }
            printf '%s\\n' "$@" >'\(scratch.path("vng-arguments"))'
            while [[ $# -gt 0 && $1 != --exec ]]; do shift; done
            case '\(exit)' in
                command) exec sh -c "$2" ;;
                lost) sh -c "$2"; exit 255 ;;
                died) sh -c "${2%%;*}"; exit 255 ;;
            esac
            """)
        FileManager.default.createFile(atPath: scratch.path("vmlinuz"), contents: Data("not a kernel".utf8))
        return ["NETFAULT_VM_HOME": scratch.path("home"), "IN_VM_BOOT_ID": "boot-1", "IN_VM_KVM_DEVICE": scratch.path("kvm"),
                "IN_VM_KVM": ""]
    }

    static var vmDepsPresent: Bool {
        // The real QEMU, busybox, udev… (in-vm checks them first and would install what is missing).
        FileManager.default.isExecutableFile(atPath: "/usr/bin/qemu-system-x86_64") && busybox
            && (try? run(["bash", "-c", "mkdir -p \"$1/venv/bin\" && printf '#!/bin/sh\\necho virtme-ng 1.42\\n' >\"$1/venv/bin/vng\" && chmod +x \"$1/venv/bin/vng\" && VM_DEPS_CHECK=1 NETFAULT_VM_HOME=\"$1\" bash scripts/vm-deps.sh; s=$?; rm -rf \"$1\"; exit $s",
                          "-", FileManager.default.temporaryDirectory.appendingPathComponent("netfault-vm-deps-\(UUID().uuidString)").path],
                         environment: [:]).status) == 0
    }

    @Test(.enabled(if: vmDepsPresent, "needs what scripts/vm-deps.sh installs (QEMU, busybox-static, udev, file)"))
    func inVMSaysItEmulatesWhenKVMFailsAndPassesTheCommandsStatus() throws {
        let scratch = try Scratch()
        var environment = try fakeVirtme(scratch, exit: "command")
        environment.merge(probeEnvironment(scratch, qemu: try fakeQEMU(scratch, "msr"))) { $1 }
        let result = try Self.run(["bash", "scripts/in-vm", scratch.path("vmlinuz"), "--", "sh", "-c", "echo \"it's me\"; exit 3"],
                                  environment: environment)
        #expect(result.status == 3, "\(result.description)")
        #expect(result.stdout == "it's me\n", "\(result.description)")
        #expect(result.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("in-vm: KVM") }
                    == ["in-vm: KVM unavailable (failed to set MSR 0x10a to 0x69); emulating"], "\(result.description)")
        #expect(scratch.read("vng-arguments").contains("--disable-kvm\n"))
    }

    @Test(.enabled(if: vmDepsPresent, "needs what scripts/vm-deps.sh installs (QEMU, busybox-static, udev, file)"))
    func inVMUsesKVMWhereAKVMGuestBoots() throws {
        let scratch = try Scratch()
        var environment = try fakeVirtme(scratch, exit: "command")
        environment.merge(probeEnvironment(scratch, qemu: try fakeQEMU(scratch, "boots"))) { $1 }
        let result = try Self.run(["bash", "scripts/in-vm", scratch.path("vmlinuz"), "--", "true"], environment: environment)
        #expect(result.status == 0 && result.stderr.contains("in-vm: using KVM\n"), "\(result.description)")
        #expect(!scratch.read("vng-arguments").contains("--disable-kvm"))
    }

    @Test(.enabled(if: vmDepsPresent, "needs what scripts/vm-deps.sh installs (QEMU, busybox-static, udev, file)"))
    func aStatusVirtmeLostIsTheCommandsAndAGuestThatDiedIsSaid() throws {
        let scratch = try Scratch()
        var environment = try fakeVirtme(scratch, exit: "lost")
        environment["IN_VM_KVM"] = "0"
        let lost = try Self.run(["bash", "scripts/in-vm", scratch.path("vmlinuz"), "--", "sh", "-c", "kill -SEGV $$"], environment: environment)
        #expect(lost.status == 139, "\(lost.description)")
        #expect(lost.stderr.contains("in-vm: the command exited 139; the VM returned 255 (virtme-ng lost the status), so 139 it is"), "\(lost.description)")
        #expect(lost.stderr.contains("in-vm: the command was killed by signal 11 (SEGV)"), "\(lost.description)")

        environment.merge(try fakeVirtme(scratch, exit: "died")) { $1 }
        environment["IN_VM_KVM"] = "0"
        let died = try Self.run(["bash", "scripts/in-vm", scratch.path("vmlinuz"), "--", "true"], environment: environment)
        #expect(died.status == 255, "\(died.description)")
        #expect(died.stderr.contains("in-vm: exit 255: the guest stopped while the command ran"), "\(died.description)")
    }

    // MARK: - kernel-matrix's retry

    /// The matrix with a fake in-vm that exits `status` `failures` times before it writes a
    /// run; `earlier`: a run of an earlier matrix is in the results already.
    func matrix(failures: Int, status: Int32 = 255, earlier: Bool = false) throws -> (Shell, Scratch) {
        let scratch = try Scratch()
        let netfault = try #require(CLI.executable, "netfault not built")
        try FileManager.default.createDirectory(atPath: scratch.path("work/scripts"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path("work/build"), withIntermediateDirectories: true)
        for script in ["kernel-matrix", "kernel-fetch"] {
            try FileManager.default.copyItem(atPath: Self.package.appendingPathComponent("scripts/\(script)").path, toPath: scratch.path("work/scripts/\(script)"))
        }
        try FileManager.default.createSymbolicLink(atPath: scratch.path("work/build/netfault"), withDestinationPath: netfault.path)
        FileManager.default.createFile(atPath: scratch.path("fake-7.2"), contents: Data("not a kernel".utf8))
        try JSONReport.encode(RunResult(kernel: "fake-7.2", startedAt: "2026-12-07T00:00:00Z", scenarios: []))
            .write(to: URL(fileURLWithPath: scratch.path("run.json")))
        if earlier {
            try FileManager.default.createDirectory(atPath: scratch.path("work/results/matrix"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: scratch.path("run.json"), toPath: scratch.path("work/results/matrix/fake-7.2.json"))
        }
        let inVM = try scratch.script("in-vm", """
            echo attempt >>'\(scratch.path("attempts"))'
            (( $(wc -l <'\(scratch.path("attempts"))') > \(failures) )) || { echo "the guest died"; exit \(status); }
            while [[ $# -gt 0 && $1 != --json ]]; do shift; done
            cp '\(scratch.path("run.json"))' "$2"
            """)
        let result = try Self.run(["bash", "scripts/kernel-matrix", scratch.path("fake-7.2")],
                                  environment: ["NETFAULT_IN_VM": inVM, "NETFAULT_BUILD": "build"],
                                  in: URL(fileURLWithPath: scratch.path("work")))
        return (result, scratch)
    }

    @Test func aVMThatStopsIsRetriedOnce() throws {
        let (result, scratch) = try matrix(failures: 1)
        #expect(result.status == 0, "\(result.description)")
        #expect(result.stderr.contains("kernel-matrix: fake-7.2: the VM stopped while the catalog ran (exit 255; log kept as results/matrix/fake-7.2.255.log); retrying once"),
                "\(result.description)")
        #expect(scratch.read("attempts") == "attempt\nattempt\n")
        #expect(scratch.read("work/results/matrix/fake-7.2.255.log") == "the guest died\n")
        #expect(FileManager.default.fileExists(atPath: scratch.path("work/results/matrix/fake-7.2.json")))
    }

    @Test func aKernelThatDoesNotBootIsRetriedOnce() throws {
        let (result, scratch) = try matrix(failures: 1, status: 125)
        #expect(result.status == 0, "\(result.description)")
        #expect(result.stderr.contains("kernel-matrix: fake-7.2: the kernel did not boot far enough to run the catalog (exit 125; log kept as results/matrix/fake-7.2.125.log); retrying once"),
                "\(result.description)")
        #expect(scratch.read("attempts") == "attempt\nattempt\n")
        #expect(FileManager.default.fileExists(atPath: scratch.path("work/results/matrix/fake-7.2.json")))
    }

    /// A kernel that never ran this time has no results, not an earlier matrix's: the matrix
    /// ends with its exit and prints no summary of it.
    @Test func aKernelThatNeverRanKeepsNoEarlierResults() throws {
        let (result, scratch) = try matrix(failures: 2, status: 125, earlier: true)
        #expect(result.status == 125, "\(result.description)")
        #expect(scratch.read("attempts") == "attempt\nattempt\n", "only one retry")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("work/results/matrix/fake-7.2.json")), "the earlier run removed")
        #expect(!result.stdout.contains("fake-7.2"), "no summary of a kernel that did not run: \(result.stdout)")
    }

    @Test func aVMThatStopsTwiceFailsTheMatrix() throws {
        let (result, scratch) = try matrix(failures: 2)
        #expect(result.status == 255, "\(result.description)")
        #expect(result.stderr.contains("retrying once") && result.stderr.contains("kernel-matrix: fake-7.2: exit 255"), "\(result.description)")
        #expect(scratch.read("attempts") == "attempt\nattempt\n", "only one retry")
    }
}
