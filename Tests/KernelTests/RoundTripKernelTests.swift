import Foundation
import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import PolicyLanguage
import Testing

/// Loads every compiled policy into scratch namespaces with the real tools and compares what the
/// kernel lists back with what Firebreak meant.
@Suite(.serialized, .enabled(if: Kernel.available, "kernel tests need root and the netfilter tools (see stderr)"))
struct RoundTripKernelTests {
  static func firewalls(_ path: String) throws -> [Firewall] {
    var resolver = Resolver(source: FileSource())
    let (policy, diagnostics) = resolver.resolve(path: path)
    guard let policy else { throw TestFailure(diagnostics.map(\.description).joined(separator: "\n")) }
    return policy.firewalls
  }

  @Test(arguments: Repo.allPolicies)
  func nftLoadsAndListsBackExactly(_ path: String) throws {
    for fw in try Self.firewalls(path) {
      let script: String
      do {
        script = try NFTScript().compile(fw.ruleset, source: path)
      } catch is DiagnosticList {
        continue  // the golden .nft file records the refusal
      }
      let ns = try ScratchNamespace("nft")
      defer { ns.remove() }
      try ns.check(["/usr/sbin/nft", "-f", "-"], input: script)
      // Loading twice must replace, not duplicate (the script deletes its own tables first).
      try ns.check(["/usr/sbin/nft", "-f", "-"], input: script)
      let listed = try ns.check(["/usr/sbin/nft", "list", "ruleset"])
      #expect(Listing.nft(listed) == Listing.nft(NFTScript().listing(fw.ruleset)), "\(path) firewall \(fw.namespace)")
    }
  }

  @Test(arguments: Repo.allPolicies)
  func iptablesLoadsAndListsBackExactly(_ path: String) throws {
    for fw in try Self.firewalls(path) {
      let output: IPTablesOutput
      do {
        output = try IPTablesCompiler().compile(fw.ruleset)
      } catch is DiagnosticList {
        continue
      }
      let variants: [(String?, String, String)] = [
        (output.ipv4, "iptables-legacy-restore", "iptables-legacy-save"),
        (output.ipv4, "iptables-nft-restore", "iptables-nft-save"),
        (output.ipv6, "ip6tables-legacy-restore", "ip6tables-legacy-save"),
        (output.ipv6, "ip6tables-nft-restore", "ip6tables-nft-save"),
      ]
      for (text, restore, save) in variants {
        guard let text else { continue }
        let ns = try ScratchNamespace("ipt")
        defer { ns.remove() }
        try ns.check(["/usr/sbin/" + restore], input: text)
        let listed = try ns.check(["/usr/sbin/" + save])
        #expect(Listing.iptables(listed) == Listing.iptables(text), "\(path) firewall \(fw.namespace) via \(restore)")
      }
    }
  }

  /// The acceptance check, with the tools' own listings as the oracle.
  @Test func labPolicyShowsForwardDropAndTheAcceptRule() throws {
    let fw = try #require(try Self.firewalls(Repo.root + "/Rules/lab.policy").first { $0.namespace == "host" })
    let ns = try ScratchNamespace("lab")
    defer { ns.remove() }
    try ns.check(["/usr/sbin/nft", "-f", "-"], input: try NFTScript().compile(fw.ruleset))
    let nft = try ns.check(["/usr/sbin/nft", "list", "chain", "ip", "filter", "FORWARD"])
    #expect(nft.contains("type filter hook forward priority filter; policy drop;"))
    #expect(nft.contains("ip saddr 11.11.11.0/24 accept comment \"lab.policy:22: lab traffic\""))

    let legacy = try ScratchNamespace("lab")
    defer { legacy.remove() }
    let compiled = try IPTablesCompiler().compile(fw.ruleset)
    let ipv4: String = try #require(compiled.ipv4)
    try legacy.check(["/usr/sbin/iptables-legacy-restore"], input: ipv4)
    let saved = try legacy.check(["/usr/sbin/iptables-legacy-save", "-t", "filter"])
    #expect(saved.contains(":FORWARD DROP"))
    #expect(saved.contains("-A FORWARD -s 11.11.11.0/24"))
    #expect(saved.contains("-j ACCEPT"))
  }
}
