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

  @Test func unroutableProbesAreBlockedNotErrors() throws {
    // A has no route to B's network: the engine predicts a drop (no route) and the probe cannot
    // be sent (ENETUNREACH); verify must record that as blocked and agree.
    let text = """
      topology {
        namespace A
        namespace R
        namespace B
        veth a0 in A peer r0 in R
        veth b0 in B peer r1 in R
        address 10.0.1.2/24 dev a0
        address 10.0.1.1/24 dev r0
        address 10.0.2.1/24 dev r1
        address 10.0.2.2/24 dev b0
        route 10.0.1.0/24 via 10.0.2.1 in B
        sysctl R net.ipv4.ip_forward = 1
      }

      """
    var resolver = Resolver(source: MemorySource(["r.policy": text]))
    let policy = try #require(resolver.resolve(path: "r.policy").0)
    let verifier = try Verifier(policy: policy, prefix: "fbt-u\(UInt32.random(in: 0...0xffffff))-")
    defer { verifier.tearDown() }
    try verifier.prepare(backend: .nft)
    let outcomes = try verifier.run()
    let disagreeing = outcomes.filter { !$0.agrees }.map(\.probe.description)
    #expect(disagreeing.isEmpty, "\(disagreeing)")
    #expect(outcomes.contains { $0.probe.from == "A" && $0.probe.to == "B" && !$0.observed })
  }

  @Test func natFlowsAreObservedWhereTheEngineDeliversThem() throws {
    // A port forward (DNAT 8080 -> 10.0.2.2:80) and masquerade in R: every probe, rewritten or
    // not, must be observed where and as what the engine says it arrives.
    let text = """
      topology {
        namespace A
        namespace R
        namespace B
        veth a0 in A peer ra in R
        veth b0 in B peer rb in R
        address 10.0.1.2/24 dev a0
        address 10.0.1.1/24 dev ra
        address 10.0.2.1/24 dev rb
        address 10.0.2.2/24 dev b0
        route default via 10.0.1.1 in A
        route default via 10.0.2.1 in B
        sysctl R net.ipv4.ip_forward = 1
      }

      firewall R {
        table ip nat {
          chain PREROUTING {
            type nat hook prerouting priority dstnat; policy accept;
            tcp dport 8080 dnat to 10.0.2.2:80
          }

          chain POSTROUTING {
            type nat hook postrouting priority srcnat; policy accept;
            oifname "rb" masquerade
          }
        }

        table ip filter {
          chain FORWARD {
            type filter hook forward priority filter; policy drop;
            ct state established,related accept
            iifname "ra" oifname "rb" accept
          }
        }
      }

      """
    var resolver = Resolver(source: MemorySource(["nat.policy": text]))
    let policy = try #require(resolver.resolve(path: "nat.policy").0)
    let verifier = try Verifier(policy: policy, prefix: "fbt-n\(UInt32.random(in: 0...0xffffff))-")
    defer { verifier.tearDown() }
    try verifier.prepare(backend: .nft)
    let outcomes = try verifier.run()
    let disagreeing = outcomes.filter { !$0.agrees }.map(\.probe.description)
    #expect(disagreeing.isEmpty, "\(disagreeing)")
    // The forwarded port really went through: A -> B :8080 passes (as :80 at B).
    #expect(outcomes.contains { $0.probe.description == "tcp syn A → B 10.0.2.2:8080" && $0.observed })
  }
}
