import Testing
@testable import Netfault

@Suite struct RetransmissionScheduleTests {
    func sysctls(_ values: [String: Int]) -> [String: [String: Int]] {
        ["h": Dictionary(uniqueKeysWithValues: values.map { ("net.ipv4." + $0.key, $0.value) })]
    }

    @Test func synWithLinearTimeoutsMatchesDesignMeasurements() {
        // DESIGN.md, measured on 6.18 with defaults: SYNs at ≈0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, ETIMEDOUT ≈131 s.
        let timeline = RetransmissionSchedule.synRetransmissions(on: "h")
            .timeline(sysctls: sysctls(["tcp_syn_retries": 6, "tcp_syn_linear_timeouts": 4]))
        #expect(timeline?.sends == [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67])
        #expect(timeline?.givesUpAt == 131)
    }

    @Test func synBefore65DoublesFromTheStart() {
        // No tcp_syn_linear_timeouts (Linux < 6.5): 0, 1, 3, 7 s and ETIMEDOUT at 15 s with 3 retries.
        let timeline = RetransmissionSchedule.synRetransmissions(on: "h").timeline(sysctls: sysctls(["tcp_syn_retries": 3]))
        #expect(timeline?.sends == [0, 1, 3, 7])
        #expect(timeline?.givesUpAt == 15)
    }

    @Test func synWithThreeRetriesOn618() {
        let timeline = RetransmissionSchedule.synRetransmissions(on: "h")
            .timeline(sysctls: sysctls(["tcp_syn_retries": 3, "tcp_syn_linear_timeouts": 4]))
        #expect(timeline?.sends == [0, 1, 2, 3, 4, 5, 7, 11])
        #expect(timeline?.givesUpAt == 19)
    }

    @Test("below 3 retries on 6.18 the time limit comes first: what tcp_syn_retries doublings would take")
    func synWithFewRetriesOn618GivesUpByTime() {
        // Measured by `netfault sweep H2 --sysctl client:net.ipv4.tcp_syn_retries=1..8` on 6.18:
        // 1 retry: SYNs at 0, 1, 2 s, ETIMEDOUT at 3 s; 2 retries: 0…5 s, ETIMEDOUT at 7 s.
        let linear = ["tcp_syn_linear_timeouts": 4]
        let one = RetransmissionSchedule.synRetransmissions(on: "h").timeline(sysctls: sysctls(linear.merging(["tcp_syn_retries": 1]) { $1 }))
        #expect(one?.sends == [0, 1, 2] && one?.givesUpAt == 3)
        let two = RetransmissionSchedule.synRetransmissions(on: "h").timeline(sysctls: sysctls(linear.merging(["tcp_syn_retries": 2]) { $1 }))
        #expect(two?.sends == [0, 1, 2, 3, 4, 5] && two?.givesUpAt == 7)
        // From 3 retries the count ends it first (35, 67, …, 371 s up to 8, as measured).
        let gives = (3...8).map { retries in
            RetransmissionSchedule.synRetransmissions(on: "h").timeline(sysctls: sysctls(linear.merging(["tcp_syn_retries": retries]) { $1 }))!.givesUpAt!
        }
        #expect(gives == [19, 35, 67, 131, 251, 371])
        #expect(RetransmissionSchedule.modelTimeout(retransmissions: 8) == 367)
    }

    @Test func synAckDoublesAndIgnoresLinearTimeouts() {
        let timeline = RetransmissionSchedule.synAckRetransmissions(on: "h")
            .timeline(sysctls: sysctls(["tcp_synack_retries": 2, "tcp_syn_linear_timeouts": 4]))
        #expect(timeline?.sends == [0, 1, 3])
        #expect(timeline?.givesUpAt == 7)
    }

    @Test func timeoutsStopDoublingAtTCPRTOMax() {
        let timeline = RetransmissionSchedule.synAckRetransmissions(on: "h").timeline(sysctls: sysctls(["tcp_synack_retries": 9]))
        // Timeouts 1, 2, 4, …, 64 s, then 120 s (TCP_RTO_MAX) instead of 128, 256 and 512.
        #expect(timeline?.sends.suffix(3) == [127, 247, 367])
        #expect(timeline?.givesUpAt == 487)
    }

    @Test func missingSysctlGivesNoTimeline() {
        #expect(RetransmissionSchedule.synRetransmissions(on: "other").timeline(sysctls: sysctls([:])) == nil)
    }
}
