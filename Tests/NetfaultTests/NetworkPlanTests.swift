import NetfaultKernel
import Testing
@testable import Netfault

@Suite struct NetworkPlanTests {
    private func ip(_ text: String) -> IPAddress { IPAddress(text)! }

    private func assignment(_ text: String, _ prefix: Int) -> NetworkPlan.AddressAssignment {
        NetworkPlan.AddressAssignment(address: ip(text), prefixLength: prefix)
    }

    /// a — b — c, no router: b has two links.
    private let chain = Scenario("P", "plan") {
        Host("a")
        Host("b")
        Host("c")
        Link("a", "b", subnet: "10.77.1.0/24")
        Link("b", "c", subnet: "10.77.2.0/24", ipv6Subnet: "fd77:2::/64", mtu: 1400)
    }

    @Test func interfacesAreNamedAndNumberedPerHostInLinkOrder() throws {
        let plan = NetworkPlan(chain)
        let a = try #require(plan.host("a")), b = try #require(plan.host("b")), c = try #require(plan.host("c"))
        #expect(a.interfaces.map(\.name) == ["eth0"])
        #expect(a.interfaces.map(\.index) == [2])
        #expect(b.interfaces.map(\.name) == ["eth0", "eth1"])
        #expect(b.interfaces.map(\.index) == [2, 3])
        #expect(c.interfaces.map(\.name) == ["eth0"])
        #expect(c.interfaces.map(\.index) == [2])
        #expect(a.interfaces.map(\.peerHost) == ["b"])
        #expect(b.interfaces.map(\.peerHost) == ["a", "c"])
        #expect(c.interfaces.map(\.peerHost) == ["b"])
        #expect(plan.hosts.map(\.name) == ["a", "b", "c"])
    }

    @Test func firstHostOfALinkGetsDot1AndTheSecondDot2() throws {
        let plan = NetworkPlan(chain)
        #expect(plan.host("a")?.interfaces[0].addresses == [assignment("10.77.1.1", 24)])
        #expect(plan.host("b")?.interfaces[0].addresses == [assignment("10.77.1.2", 24)])
        #expect(plan.host("b")?.interfaces[1].addresses == [assignment("10.77.2.1", 24), assignment("fd77:2::1", 64)])
        #expect(plan.host("c")?.interfaces[0].addresses == [assignment("10.77.2.2", 24), assignment("fd77:2::2", 64)])
        #expect(plan.usesIPv6)
    }

    @Test func linkPlansNameBothEnds() {
        let plan = NetworkPlan(chain)
        #expect(plan.links.count == 2)
        let first = plan.links[0], second = plan.links[1]
        #expect((first.hostA, first.interfaceA, first.indexA) == ("a", "eth0", 2))
        #expect((first.hostB, first.interfaceB, first.indexB) == ("b", "eth0", 2))
        #expect(first.mtu == nil)
        #expect((second.hostA, second.interfaceA, second.indexA) == ("b", "eth1", 3))
        #expect((second.hostB, second.interfaceB, second.indexB) == ("c", "eth0", 2))
        #expect(second.mtu == 1400)
    }

    @Test func subnetWrittenWithHostBitsStillGivesDot1AndDot2() {
        let scenario = Scenario("P", "plan") {
            Host("a"); Host("b")
            Link("a", "b", subnet: "10.77.3.77/24")
        }
        let plan = NetworkPlan(scenario)
        #expect(plan.address(of: "a", ipv6: false) == ip("10.77.3.1"))
        #expect(plan.address(of: "b", ipv6: false) == ip("10.77.3.2"))
        #expect(!plan.usesIPv6)
    }

    @Test func addressOfPicksTheFirstAddressOfTheFamily() {
        let plan = NetworkPlan(chain)
        #expect(plan.address(of: "a", ipv6: false) == ip("10.77.1.1"))
        #expect(plan.address(of: "a", ipv6: true) == nil)
        #expect(plan.address(of: "b", ipv6: false) == ip("10.77.1.2"))
        #expect(plan.address(of: "b", ipv6: true) == ip("fd77:2::1"))
        #expect(plan.address(of: "c", ipv6: true) == ip("fd77:2::2"))
        #expect(plan.address(of: "nobody", ipv6: false) == nil)
    }

    @Test func forwardingHostGetsIPForwardSysctls() throws {
        let scenario = Scenario("P", "plan") {
            Host("a")
            Host("r", forwarding: true)
            Host("b")
            Link("a", "r", subnet: "10.77.1.0/24")
            Link("r", "b", subnet: "10.77.2.0/24")
            Sysctl("r", "net.ipv4.tcp_syn_retries", 2)
        }
        let plan = NetworkPlan(scenario)
        let router = try #require(plan.host("r"))
        #expect(router.forwarding)
        #expect(router.sysctls.map(\.name) == ["net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.ipv4.tcp_syn_retries"])
        #expect(router.sysctls.map(\.value) == ["1", "1", "2"])
        #expect(plan.host("a")?.sysctls.isEmpty == true)
        #expect(plan.host("a")?.forwarding == false)
        // The router has two links: no default route of its own.
        #expect(router.routes.isEmpty)
    }

    @Test func hostsWithIPv6SkipDADBeforeTheirLinksExist() throws {
        let scenario = Scenario("P", "plan") {
            Host("a")
            Host("r", forwarding: true)
            Host("b")
            Link("a", "r", subnet: "10.77.1.0/24", ipv6Subnet: "fd77:1::/64")
            Link("r", "b", subnet: "10.77.2.0/24")
            Sysctl("r", "net.ipv6.conf.default.accept_dad", 1)
        }
        let plan = NetworkPlan(scenario)
        let dad = ("net.ipv6.conf.default.accept_dad", "0")
        #expect(plan.host("a")?.sysctls.map { [$0.name, $0.value] } == [[dad.0, dad.1]])
        // The scenario's own sysctls come last, so a user can still turn DAD back on.
        #expect(plan.host("r")?.sysctls.map(\.name) == [dad.0, "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", dad.0])
        #expect(plan.host("r")?.sysctls.last?.value == "1")
        #expect(plan.host("b")?.sysctls.isEmpty == true, "b has no IPv6 address")
    }

    @Test func hostBehindARouterGetsDefaultRoutesViaTheRoutersAddressOnThatLink() throws {
        let scenario = Scenario("P", "plan") {
            Host("client")
            Host("r", forwarding: true)
            Host("server")
            Link("client", "r", subnet: "10.77.1.0/24", ipv6Subnet: "fd77:1::/64")
            Link("r", "server", subnet: "10.77.2.0/24", ipv6Subnet: "fd77:2::/64")
        }
        let plan = NetworkPlan(scenario)
        #expect(plan.host("client")?.routes == [
            NetworkPlan.RoutePlan(destination: ip("0.0.0.0"), prefixLength: 0, gateway: ip("10.77.1.2")),
            NetworkPlan.RoutePlan(destination: ip("::"), prefixLength: 0, gateway: ip("fd77:1::2")),
        ])
        #expect(plan.host("server")?.routes == [
            NetworkPlan.RoutePlan(destination: ip("0.0.0.0"), prefixLength: 0, gateway: ip("10.77.2.1")),
            NetworkPlan.RoutePlan(destination: ip("::"), prefixLength: 0, gateway: ip("fd77:2::1")),
        ])
    }

    @Test func defaultRoutesOnlyForTheFamiliesTheLinkHas() {
        let scenario = Scenario("P", "plan") {
            Host("client")
            Host("r", forwarding: true)
            Host("server")
            Link("client", "r", subnet: "10.77.1.0/24")
            Link("r", "server", ipv6Subnet: "fd77:2::/64")
        }
        let plan = NetworkPlan(scenario)
        #expect(plan.host("client")?.routes == [
            NetworkPlan.RoutePlan(destination: ip("0.0.0.0"), prefixLength: 0, gateway: ip("10.77.1.2")),
        ])
        #expect(plan.host("server")?.routes == [
            NetworkPlan.RoutePlan(destination: ip("::"), prefixLength: 0, gateway: ip("fd77:2::1")),
        ])
    }

    @Test func noDefaultRouteWithoutARouterOrWithAnExplicitRoute() {
        let scenario = Scenario("P", "plan") {
            Host("a")
            Host("r", forwarding: true)
            Host("b")
            Host("x"); Host("y")
            Link("a", "r", subnet: "10.77.1.0/24")
            Link("r", "b", subnet: "10.77.2.0/24")
            Link("x", "y", subnet: "10.77.3.0/24")
            Route("a", to: "10.77.2.0/24", via: "r")
        }
        let plan = NetworkPlan(scenario)
        // a wrote its own route: only that one.
        #expect(plan.host("a")?.routes == [
            NetworkPlan.RoutePlan(destination: ip("10.77.2.0"), prefixLength: 24, gateway: ip("10.77.1.2")),
        ])
        // b's link to the router is IPv4 only: one default route.
        #expect(plan.host("b")?.routes == [
            NetworkPlan.RoutePlan(destination: ip("0.0.0.0"), prefixLength: 0, gateway: ip("10.77.2.1")),
        ])
        // x's only neighbour does not forward.
        #expect(plan.host("x")?.routes == [])
        #expect(plan.host("y")?.routes == [])
    }

    @Test func explicitRouteResolvesViaToTheNeighboursAddressOnTheSharedLink() {
        let scenario = Scenario("P", "plan") {
            Host("a"); Host("b"); Host("c")
            Link("a", "b", subnet: "10.77.1.0/24", ipv6Subnet: "fd77:1::/64")
            Link("b", "c", subnet: "10.77.2.0/24", ipv6Subnet: "fd77:2::/64")
            Route("a", to: "10.77.2.0/24", via: "b")
            Route("a", to: "fd77:2::/64", via: "b")
            Route("c", to: "10.77.1.0/24", via: "b")
        }
        #expect(ScenarioValidator.validate(scenario) == [])
        let plan = NetworkPlan(scenario)
        #expect(plan.host("a")?.routes == [
            NetworkPlan.RoutePlan(destination: ip("10.77.2.0"), prefixLength: 24, gateway: ip("10.77.1.2")),
            NetworkPlan.RoutePlan(destination: ip("fd77:2::"), prefixLength: 64, gateway: ip("fd77:1::2")),
        ])
        #expect(plan.host("c")?.routes == [
            NetworkPlan.RoutePlan(destination: ip("10.77.1.0"), prefixLength: 24, gateway: ip("10.77.2.1")),
        ])
        #expect(plan.host("b")?.routes == [])
    }

    @Test func neighbourAddressIsTheAddressOnTheSharedLink() {
        let plan = NetworkPlan(chain)
        #expect(plan.neighbourAddress(of: "b", seenFrom: "a", ipv6: false) == ip("10.77.1.2"))
        #expect(plan.neighbourAddress(of: "b", seenFrom: "c", ipv6: false) == ip("10.77.2.1"))
        #expect(plan.neighbourAddress(of: "b", seenFrom: "c", ipv6: true) == ip("fd77:2::1"))
        #expect(plan.neighbourAddress(of: "b", seenFrom: "a", ipv6: true) == nil)
        #expect(plan.neighbourAddress(of: "c", seenFrom: "a", ipv6: false) == nil)
    }

    @Test func cidrParsingAndHosts() throws {
        let v4 = try #require(CIDR("10.77.4.0/24"))
        #expect(v4.host(1) == ip("10.77.4.1"))
        #expect(v4.host(2) == ip("10.77.4.2"))
        #expect(v4.contains(ip("10.77.4.200")))
        #expect(!v4.contains(ip("10.77.5.1")))
        #expect(!v4.contains(ip("fd77::1")))
        #expect(v4.description == "10.77.4.0/24")
        let odd = try #require(CIDR("10.77.0.0/20"))
        #expect(odd.contains(ip("10.77.15.255")))
        #expect(!odd.contains(ip("10.77.16.0")))
        #expect(CIDR("10.77.4.0") == nil)
        #expect(CIDR("10.77.4.0/33") == nil)
        #expect(CIDR("fd77::/129") == nil)
        #expect(CIDR("10.77.4.0/-1") == nil)
        #expect(CIDR("nonsense/24") == nil)
        #expect(CIDR("fd77:1::/64")?.host(2) == ip("fd77:1::2"))
    }
}
