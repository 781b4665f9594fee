import IPTablesBackend
import NFTablesBackend
import NetfilterModel
import RulesetImport
import Testing
import VerdictEngine

/// What the backends and both engines do with an imported dump's opaque parts.
@Suite struct ImportedBackendTests {
  let dump = """
    *filter
    :INPUT ACCEPT [0:0]
    :FORWARD ACCEPT [0:0]
    :OUTPUT ACCEPT [0:0]
    -A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
    -A OUTPUT -o lo -m owner --uid-owner 0 -m comment --comment "root only" -j ACCEPT
    COMMIT

    """

  @Test func iptablesEmitsOpaquePartsVerbatim() throws {
    let imported = IPTablesSaveImporter().importRuleset(dump, file: "d.rules")
    let text = try #require(try IPTablesCompiler(originComments: false).compile(imported.ruleset).ipv4)
    #expect(text.contains("-A FORWARD -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\n"))
    #expect(text.contains("-A OUTPUT -o lo -m owner --uid-owner 0 -m comment --comment \"root only\" -j ACCEPT\n"))
  }

  @Test func nftRefusesOpaquePartsAtTheirPlace() {
    let imported = IPTablesSaveImporter().importRuleset(dump, file: "d.rules")
    let problems = NFTScript().unsupported(imported.ruleset)
    #expect(
      problems.map(\.description) == [
        "d.rules:5:50: error: cannot express in nft: iptables target '-j TCPMSS --clamp-mss-to-pmtu'",
        "d.rules:6:17: error: cannot express in nft: iptables match '-m owner --uid-owner 0'",
      ])
  }

  /// The indexed engine treats opaque matches as wildcards; it must answer exactly as the linear one.
  @Test(arguments: Corpus.iptablesFiles)
  func indexedAndLinearEnginesAgree(_ name: String) throws {
    let ruleset = try Corpus.load(name).ruleset
    let indexed = Simulator(ruleset: ruleset, engine: .indexed)
    let linear = Simulator(ruleset: ruleset, engine: .linear)
    var sources: [String] = ["192.0.2.10", "127.0.0.1"]
    for table in ruleset.tables {
      for chain in table.chains {
        for rule in chain.rules {
          for m in rule.matches {
            if case .address(.v4, _, .single(let e)) = m.kind { sources.append(e.bounds.0.description) }
          }
        }
      }
    }
    var checked = 0
    for (k, address) in sources.prefix(60).enumerated() {
      for hook in ["input", "forward", "output"] {
        for (proto, port) in [("tcp", "22"), ("udp", "53"), ("tcp", "80")] {
          let words = [
            "--hook", hook, "--src", address, "--dst", sources[(k + 1) % sources.count], "--proto", proto, "--sport",
            "4000", "--dport", port, "--iif", "eth\(k % 6)", "--oif", "eth\((k + 1) % 6)", "--ct-state", "new",
          ]
          var request = try PacketOptions.request(words: words)
          if hook == "input" { request.packet.outputInterface = nil }
          if hook == "output" { request.packet.inputInterface = nil }
          let a = try indexed.simulate(request)
          let b = try linear.simulate(request)
          #expect(a.verdict == b.verdict && a.decidedBy == b.decidedBy && a.reason == b.reason, "\(words)")
          checked += 1
        }
      }
    }
    #expect(checked > 10)
  }
}
