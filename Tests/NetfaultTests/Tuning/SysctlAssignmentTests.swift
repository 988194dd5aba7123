import Testing
@testable import Netfault

@Suite("--sysctl HOST:NAME=VALUE parsing")
struct SysctlAssignmentTests {
    @Test func oneValue() throws {
        let parsed = try SysctlAssignment(parsing: "client:net.ipv4.tcp_syn_retries=2", allowingLists: false)
        #expect(parsed == SysctlAssignment(host: "client", name: "net.ipv4.tcp_syn_retries", values: ["2"]))
        #expect(parsed.overrides == [SysctlOverride(host: "client", name: "net.ipv4.tcp_syn_retries", value: "2",
                                                    location: .commandLine("--sysctl client:net.ipv4.tcp_syn_retries=2"))])
        #expect(parsed.overrides[0].location.description == "--sysctl client:net.ipv4.tcp_syn_retries=2")
    }

    @Test("run takes everything after the first = as the value, commas and all")
    func runKeepsCommas() throws {
        let parsed = try SysctlAssignment(parsing: "*:net.ipv4.tcp_rmem=4096 131072,x=y", allowingLists: false)
        #expect(parsed.host == "*" && parsed.values == ["4096 131072,x=y"])
    }

    @Test("lists, ranges and both")
    func lists() throws {
        #expect(try SysctlAssignment(parsing: "c:n.a.b=1,2,5", allowingLists: true).values == ["1", "2", "5"])
        #expect(try SysctlAssignment(parsing: "c:n.a.b=1..4", allowingLists: true).values == ["1", "2", "3", "4"])
        #expect(try SysctlAssignment(parsing: "c:n.a.b=0..2,10,-1", allowingLists: true).values == ["0", "1", "2", "10", "-1"])
        #expect(try SysctlAssignment(parsing: "c:n.a.b=3..3", allowingLists: true).values == ["3"])
        #expect(try SysctlAssignment(parsing: "c:n.a.b=cubic,reno", allowingLists: true).values == ["cubic", "reno"])
        let overrides = try SysctlAssignment(parsing: "c:n.a.b=1,2", allowingLists: true).overrides
        #expect(overrides.map(\.location.description) == ["--sysctl c:n.a.b=1", "--sysctl c:n.a.b=2"])
    }

    @Test("malformed options say what is expected, naming the option", arguments: [
        ("client-net.ipv4.x=1", "expected HOST:NAME=VALUE"),
        ("client:net.ipv4.x", "expected HOST:NAME=VALUE"),
        (":net.ipv4.x=1", "expected HOST:NAME=VALUE"),
        ("client:=1", "expected HOST:NAME=VALUE"),
        ("client:net.ipv4.x=", "expected HOST:NAME=VALUE"),
        ("client:net.ipv4.x=8..1", "\"8..1\" is not a range LOW..HIGH"),
        ("client:net.ipv4.x=1..b", "\"1..b\" is not a range"),
        ("client:net.ipv4.x=1,,2", "an empty value in the list"),
        ("client:net.ipv4.x=1..3,2", "the value 2 is listed twice"),
        ("client:net.ipv4.x=1..5000", "more than 1000 values"),
    ])
    func malformed(text: String, message: String) {
        #expect {
            try SysctlAssignment(parsing: text, allowingLists: true)
        } throws: { error in
            let description = (error as? SysctlAssignment.ParseError)?.description ?? ""
            return description.hasPrefix("--sysctl \(text): ") && description.contains(message)
        }
    }
}
