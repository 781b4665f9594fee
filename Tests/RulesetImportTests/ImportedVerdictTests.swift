import NetfilterModel
import RulesetImport
import Testing
import VerdictEngine

/// The engine on imported corpus dumps: one line per packet, the verdict and what decided it
/// (`table/CHAIN#index` or `table/CHAIN:policy`); `unknown` names the module in its reason.
struct ImportedVerdictCase: CustomTestStringConvertible, Sendable {
  var file: String
  var packet: String
  var verdict: Simulation.Verdict
  var by: String
  init(_ file: String, _ packet: String, _ verdict: Simulation.Verdict, _ by: String) {
    self.file = file
    self.packet = packet
    self.verdict = verdict
    self.by = by
  }
  var testDescription: String { "\(file): \(packet) → \(verdict.rawValue) by \(by)" }
}

private let ferm = "03_ferm_workstation.iptables-save"
private let serverfault = "07_serverfault_765855.iptables-save"
private let tails = "08_tails_1.5.iptables-save"
private let openlab = "18_openlab_stettenstr.iptables-save"
private let stress = "26_parser_stress_test.iptables-save"
private let fermIn = "--hook input --iif eth0 --src 192.0.2.7 --dst 10.0.0.1"
private let tailsOut = "--hook output --oif lo --src 127.0.0.1 --dst 127.0.0.1 --ct-state new"

let importedVerdictCases: [ImportedVerdictCase] = [
  .init(ferm, "\(fermIn) --proto tcp --sport 4000 --dport 22 --ct-state new", .accept, "filter/INPUT#4"),
  .init(ferm, "\(fermIn) --proto tcp --sport 4000 --dport 23 --ct-state new", .drop, "filter/INPUT:policy"),
  .init(ferm, "\(fermIn) --proto tcp --sport 4000 --dport 23 --ct-state established", .accept, "filter/INPUT#1"),
  .init(ferm, "\(fermIn) --proto tcp --sport 4000 --dport 23 --ct-state invalid", .drop, "filter/INPUT#0"),
  .init(ferm, "\(fermIn) --proto icmp --icmp-type echo-request --ct-state new", .accept, "filter/INPUT#3"),
  .init(ferm, "\(fermIn) --proto icmp --icmp-type echo-reply --ct-state new", .drop, "filter/INPUT:policy"),
  .init(
    ferm, "--hook input --iif lo --src 127.0.0.1 --dst 127.0.0.1 --proto udp --sport 1 --dport 9 --ct-state new",
    .accept, "filter/INPUT#2"),
  // An opaque match decides nothing: unknown, naming the module.
  .init(tails, "\(tailsOut) --proto tcp --sport 4000 --dport 9050 --tcp-flags syn", .unknown, "owner"),
  .init(tails, "\(tailsOut) --proto tcp --sport 4000 --dport 9051", .unknown, "owner"),
  .init(tails, "\(tailsOut) --proto tcp --sport 4000 --dport 9050 --ct-state established", .accept, "filter/OUTPUT#0"),
  // mangle PREROUTING marks new flows 0x2, saves the mark to the connection and restores it:
  // FORWARD decides on the restored mark.
  .init(
    serverfault,
    "--hook forward --iif eth2 --oif eth0 --src 10.2.0.5 --dst 8.8.8.8 --proto udp --sport 5000 --dport 53 --ct-state new",
    .accept, "filter/FORWARD#1"),
  .init(
    serverfault,
    "--hook forward --iif eth0 --oif eth2 --src 8.8.8.8 --dst 10.2.0.5 --proto tcp --sport 80 --dport 5000 --ct-state new",
    .accept, "filter/FORWARD#5"),
  .init(
    serverfault,
    "--hook forward --iif eth0 --oif eth1 --src 8.8.8.8 --dst 10.1.0.5 --proto tcp --sport 80 --dport 5000 --ct-state established --ct-mark 1",
    .accept, "filter/FORWARD#6"),
  .init(
    serverfault,
    "--hook forward --iif eth0 --oif eth1 --src 8.8.8.8 --dst 10.1.0.5 --proto tcp --sport 80 --dport 5000 --ct-state established --ct-mark 2",
    .drop, "filter/FORWARD:policy"),
  .init(
    openlab,
    "--hook forward --iif eth5 --oif br0 --src 178.63.20.132 --dst 10.11.1.1 --proto tcp --sport 5000 --dport 80 --ct-state new",
    .accept, "filter/FORWARD#14"),
  // --physdev-is-bridged: only a bridged packet (one with bridge ports) matches it.
  .init(
    openlab,
    "--hook forward --iif br0 --oif br0 --physdev-in port1 --physdev-out port2 --src 10.10.0.5 --dst 10.10.0.6 --proto tcp --sport 5000 --dport 80 --ct-state new",
    .accept, "filter/FORWARD#0"),
  .init(
    stress,
    "--hook forward --iif eth0 --oif eth1 --src 127.0.0.5 --dst 10.0.0.1 --proto tcp --sport 5000 --dport 80 --ct-state new",
    .drop, "filter/FORWARD#1"),
]

@Suite struct ImportedVerdictTests {
  @Test(arguments: importedVerdictCases)
  func verdict(_ c: ImportedVerdictCase) throws {
    let imported = try Corpus.load(c.file)
    let simulator = Simulator(ruleset: imported.ruleset)
    let result = try simulator.simulate(PacketOptions.request(words: c.packet.split(separator: " ").map(String.init)))
    #expect(
      result.verdict == c.verdict,
      "\(result.reason ?? "") \(result.trace.map { "\($0.chain)#\($0.index ?? -1) \($0.action)" })")
    if c.verdict == .unknown {
      #expect(result.reason?.contains(c.by) == true, "\(result.reason ?? "no reason")")
    } else {
      let d = try #require(result.decidedBy)
      #expect("\(d.table)/\(d.chain)" + (d.index.map { "#\($0)" } ?? ":policy") == c.by)
    }
  }

  @Test func nonTerminalOpaqueTargetsContinueWithAnAssumption() throws {
    let text = """
      *filter
      :INPUT DROP [0:0]
      -A INPUT -p tcp -j TCPMSS --clamp-mss-to-pmtu
      -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
      -A INPUT -p udp -j NFQUEUE --queue-num 3
      COMMIT
      """
    let imported = IPTablesSaveImporter().importRuleset(text, file: "t")
    #expect(imported.errors.isEmpty)
    let simulator = Simulator(ruleset: imported.ruleset)
    func run(_ words: String) throws -> Simulation {
      try simulator.simulate(PacketOptions.request(words: words.split(separator: " ").map(String.init)))
    }
    let tcp = try run("--hook input --iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --proto tcp --sport 1 --dport 22")
    #expect(tcp.verdict == .accept)
    #expect(tcp.decidedBy?.index == 1)
    #expect(tcp.assumptions.contains("target TCPMSS is not modelled; assumed not to change the packet's fate"))
    let udp = try run("--hook input --iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --proto udp --sport 1 --dport 22")
    #expect(udp.verdict == .unknown)
    #expect(udp.reason?.contains("NFQUEUE") == true)
  }

  @Test func notrackAndMarkChangingTargetsAreFollowed() throws {
    let text = """
      *raw
      :PREROUTING ACCEPT [0:0]
      :OUTPUT ACCEPT [0:0]
      -A PREROUTING -p udp -m udp --dport 53 -j CT --notrack
      COMMIT
      *mangle
      :PREROUTING ACCEPT [0:0]
      -A PREROUTING -p tcp -j MARK --set-xmark 0x1/0xff
      COMMIT
      *filter
      :INPUT DROP [0:0]
      -A INPUT -m state --state UNTRACKED -j ACCEPT
      -A INPUT -m mark --mark 0x1 -j ACCEPT
      COMMIT
      """
    let imported = IPTablesSaveImporter().importRuleset(text, file: "t")
    #expect(imported.errors.isEmpty)
    let simulator = Simulator(ruleset: imported.ruleset)
    func run(_ proto: String, _ port: Int) throws -> Simulation {
      let words = "--hook input --iif eth0 --src 1.2.3.4 --dst 10.0.0.1 --proto \(proto) --sport 1 --dport \(port)"
      return try simulator.simulate(PacketOptions.request(words: words.split(separator: " ").map(String.init)))
    }
    // CT --notrack makes the packet UNTRACKED for the filter table.
    let dns = try run("udp", 53)
    #expect(dns.verdict == .accept)
    #expect(dns.decidedBy?.table == "filter" && dns.decidedBy?.index == 0)
    #expect(try run("udp", 54).verdict == .drop)
    // A MARK with a partial mask is opaque: the later mark test cannot be decided.
    let tcp = try run("tcp", 80)
    #expect(tcp.verdict == .unknown)
    #expect(tcp.reason?.contains("changed by target MARK") == true)
  }
}
