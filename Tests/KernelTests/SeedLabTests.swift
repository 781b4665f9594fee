import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import Testing
import VerdictEngine

/// Builds a policy's topology in prefixed scratch namespaces with `ip` (the test's tool; the
/// product's native topology code is a later step) and removes it again.
final class ScratchTopology {
  let prefix: String
  let topology: Topology

  init(_ topology: Topology) throws {
    self.topology = topology
    prefix = "fbt-lab\(UInt32.random(in: 0...0xffffff))-"
    do {
      try build()
    } catch {
      remove()
      throw error
    }
  }

  func name(_ namespace: String) -> String { prefix + namespace }

  func ip(_ args: [String]) throws {
    let r = try run(["/usr/sbin/ip"] + args)
    guard r.status == 0 else { throw TestFailure("ip \(args.joined(separator: " ")): \(r.stderr)") }
  }

  func exec(_ namespace: String, _ argv: [String], input: String? = nil) throws -> CommandResult {
    try run(["/usr/sbin/ip", "netns", "exec", name(namespace)] + argv, input: input)
  }

  private func build() throws {
    for ns in topology.namespaces {
      try ip(["netns", "add", name(ns.name)])
      try ip(["-n", name(ns.name), "link", "set", "lo", "up"])
    }
    for b in topology.bridges {
      try ip(["-n", name(b.namespace), "link", "add", b.name, "type", "bridge"])
    }
    for v in topology.veths {
      // Created inside the first namespace, the peer moved straight into its own.
      try ip([
        "-n", name(v.namespace), "link", "add", v.name, "type", "veth", "peer", "name", v.peer, "netns",
        name(v.peerNamespace),
      ])
      if let m = v.master { try ip(["-n", name(v.namespace), "link", "set", v.name, "master", m]) }
      if let m = v.peerMaster { try ip(["-n", name(v.peerNamespace), "link", "set", v.peer, "master", m]) }
    }
    for a in topology.addresses {
      try ip(["-n", name(a.namespace), "addr", "add", a.address.description, "dev", a.device])
    }
    for i in topology.interfaces { try ip(["-n", name(i.namespace), "link", "set", i.name, "up"]) }
    for s in topology.sysctls {
      let r = try exec(s.namespace, ["/usr/sbin/sysctl", "-q", "-w", "\(s.key)=\(s.value)"])
      guard r.status == 0 else { throw TestFailure("sysctl \(s.key) in \(s.namespace): \(r.stderr)") }
    }
  }

  func remove() {
    for ns in topology.namespaces { _ = try? run(["/usr/sbin/ip", "netns", "del", name(ns.name)]) }
  }
}

/// The seed's observation, for real: under `lab-blocked` RED's ping to BLUE is dropped while ARP
/// passes; under `lab` the ping and its reply pass. Each outcome must equal the engine's prediction.
@Suite(
  .serialized,
  .enabled(if: Kernel.bridgeNetfilter, "the lab needs root, the netfilter tools and br_netfilter (see stderr)"))
struct SeedLabTests {
  enum Backend: String, CaseIterable { case nft, iptablesLegacy }

  static let ping = "/usr/bin/ping"

  @Test(arguments: ["lab-blocked", "lab"], Backend.allCases)
  func pingRedToBlue(policyName: String, backend: Backend) throws {
    try #require(FileManager.default.isExecutableFile(atPath: Self.ping), "ping is missing; run scripts/setup.sh")
    var resolver = Resolver(source: FileSource())
    let (loaded, diagnostics) = resolver.resolve(path: Repo.root + "/Rules/\(policyName).policy")
    let policy = try #require(loaded, "\(diagnostics)")
    let lab = try ScratchTopology(try #require(policy.topology))
    defer { lab.remove() }
    for fw in policy.firewalls {
      switch backend {
      case .nft:
        let r = try lab.exec(fw.namespace, ["/usr/sbin/nft", "-f", "-"], input: try NFTScript().compile(fw.ruleset))
        #expect(r.status == 0, "\(r.stderr)")
      case .iptablesLegacy:
        let text = try #require(try IPTablesCompiler().compile(fw.ruleset).ipv4)
        let r = try lab.exec(fw.namespace, ["/usr/sbin/iptables-legacy-restore"], input: text)
        #expect(r.status == 0, "\(r.stderr)")
      }
    }

    let simulator = Simulator(policy: policy)
    let icmp = try simulator.simulate(
      try PacketOptions.request(words: ["--from", "RED", "--dst", "11.11.11.3", "--proto", "icmp"]))
    let reply = try simulator.simulate(
      try PacketOptions.request(words: [
        "--from", "BLUE", "--dst", "11.11.11.2", "--proto", "icmp", "--icmp-type", "echo-reply",
      ]))
    let arp = try simulator.simulate(
      try PacketOptions.request(words: ["--from", "RED", "--dst", "11.11.11.3", "--proto", "arp"]))

    // One echo request; ping exits 0 only if the reply came back.
    let pinged = try lab.exec("RED", [Self.ping, "-c", "1", "-W", "2", "-n", "11.11.11.3"])
    let echoPassed = pinged.status == 0
    #expect(echoPassed == (icmp.verdict == .accept && reply.verdict == .accept), "ping: \(pinged.stdout)")

    // ARP resolved: RED learned BLUE's MAC even when the ping was dropped.
    let neigh = try lab.exec("RED", ["/usr/sbin/ip", "neigh", "show", "11.11.11.3", "dev", "reth0"])
    let arpPassed = neigh.stdout.contains("lladdr")
    #expect(arpPassed)
    #expect(arp.verdict == .accept)

    if policyName == "lab-blocked" {
      #expect(!echoPassed)
      #expect(icmp.verdict == .drop)
      #expect(icmp.decidedBy?.chain == "FORWARD" && icmp.decidedBy?.index == nil)
    } else {
      #expect(echoPassed)
      #expect(icmp.decidedBy?.rule == "ip saddr 11.11.11.0/24 accept")
    }
  }
}
