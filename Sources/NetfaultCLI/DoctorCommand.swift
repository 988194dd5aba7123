import ArgumentParser
import Foundation
import Netfault
import NetfaultKernel

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what this machine's kernel offers netfault; exit 3 if netfault cannot run here.",
        discussion: "Each probe runs for real inside a scratch namespace; nothing on the host is changed."
    )

    @Flag(help: "Print the probes as JSON: {schemaVersion, netfaultVersion, probes: [{name, present, detail}]} (docs/schemas/doctor.schema.json).")
    var json = false

    func run() throws {
        let results = KernelProbes.all()
        if json {
            print(String(decoding: try ResultDocument(.doctor, DoctorReport(probes: results)).json(), as: UTF8.self))
        } else {
            for result in results {
                print("\(result.present ? "present" : "missing")  \(result.name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(result.detail)")
            }
            let backends = FaultBackends(probes: results)
            print("")
            print("fault backends:")
            print("  bpf:     " + (backends.tcBPF ? "tc BPF programs on clsact (cls_bpf, direct action)" : "unavailable: \(backends.tcBPFProblem ?? "")"))
            print("  bpf+fq:  " + (backends.tcBPF && backends.fq ? "sch_fq holds what the programs delay (earliest departure time)"
                                   : "unavailable: \(backends.tcBPF ? backends.fqProblem ?? "" : backends.tcBPFProblem ?? "")"))
            print("  nfqueue: \(backends.queueDescription)")
            print("  netem:   " + (backends.netem ? "sch_netem" : "unavailable: \(backends.netemProblem ?? "")"))
            print("")
            print("where faults run (--fault-backend auto):")
            for line in backends.faultKindLines { print("  \(line)") }
        }
        let missing = KernelProbes.canRun(results)
        if !missing.isEmpty {
            FileHandle.standardError.write(Data("netfault cannot run here: missing \(missing.joined(separator: ", "))\n".utf8))
            throw ExitCode(ExitStatus.environment)
        }
    }
}

/// What `doctor --json` writes (with its versions): every probe, in the order they ran.
struct DoctorReport: Encodable {
    let probes: [KernelProbes.ProbeResult]
}
