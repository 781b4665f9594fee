import FirebreakCLI
import Foundation
import NetfilterModel
import PolicyLanguage
import Testing
import Verification

/// `firebreak verify` on the seed's two policies, through both backends, and proof that verify
/// can fail: predictions from one policy against the kernel running another must disagree.
@Suite(
  .serialized,
  .enabled(if: Kernel.bridgeNetfilter, "the lab needs root, the netfilter tools and br_netfilter (see stderr)"))
struct VerifyKernelTests {
  static func policy(_ name: String) throws -> Policy {
    var resolver = Resolver(source: FileSource())
    let (policy, diagnostics) = resolver.resolve(path: Repo.root + "/Rules/\(name).policy")
    return try #require(policy, "\(diagnostics)")
  }

  @Test(arguments: ["lab-blocked", "lab"], ["nft", "iptables"])
  func seedPoliciesVerify(name: String, backend: String) throws {
    let console = Console.capturing()
    let prefix = "fbt-v\(UInt32.random(in: 0...0xffffff))-"
    let status = CLI(console: console).run([
      "verify", "--backend", backend, "--prefix", prefix, Repo.root + "/Rules/\(name).policy",
    ])
    #expect(status == 0, "\(console.out)\(console.err)")
    #expect(console.out.contains("8/8 probes agree"))
    let arp = console.out.split(separator: "\n").first { $0.hasPrefix("arp RED → BLUE") } ?? ""
    #expect(arp.contains("pass       pass"))
    let echo = console.out.split(separator: "\n").first { $0.hasPrefix("icmp echo RED → BLUE") } ?? ""
    #expect(echo.contains(name == "lab" ? "pass       pass" : "blocked    blocked"), "\(echo)")
    #expect(!(try run(["/usr/sbin/ip", "netns", "list"]).stdout.contains(prefix)))
  }

  @Test func aWrongPredictionIsDetected() throws {
    // Predict with lab (ping passes), run the kernel with lab-blocked's firewall (ping dropped).
    let verifier = try Verifier(policy: try Self.policy("lab"), prefix: "fbt-w\(UInt32.random(in: 0...0xffffff))-")
    defer { verifier.tearDown() }
    try verifier.prepare(backend: .nft, firewalls: try Self.policy("lab-blocked").firewalls)
    let outcomes = try verifier.run()
    let disagreeing = outcomes.filter { !$0.agrees }
    #expect(disagreeing.count == 6)  // icmp, tcp and udp in both directions; ARP still agrees
    #expect(disagreeing.allSatisfy { $0.predicted && !$0.observed })
  }
}
