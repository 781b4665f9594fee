import NetfilterModel
import PolicyLanguage
import Testing

@Suite struct RoundTripTests {
  @Test(arguments: Fixtures.allPolicies)
  func examplesCheckCleanly(path: String) {
    let (policy, diagnostics) = Fixtures.resolve(path)
    #expect(diagnostics.isEmpty, "\(diagnostics.map(\.description))")
    #expect(policy != nil)
  }

  @Test(arguments: Fixtures.allPolicies)
  func formatIsCanonicalIdempotentAndKeepsMeaning(path: String) throws {
    let text = try #require(FileSource().read(path))
    let (once, d1) = Formatter().format(file: path, text: text)
    #expect(d1.isEmpty)
    let formatted = try #require(once)
    #expect(formatted == text, "\(path) is not in canonical form; run firebreak fmt --write")
    let (twice, _) = Formatter().format(file: path, text: formatted)
    #expect(twice == formatted)
    let (original, _) = Fixtures.resolve(path)
    let (reparsed, d2) = Fixtures.resolve(text: formatted)
    #expect(d2.isEmpty)
    #expect(original?.firewalls == reparsed?.firewalls)
    #expect(original?.topology == reparsed?.topology)
  }

  @Test func formatNormalizesLayoutAndKeepsComments() throws {
    let messy = """
      # header comment
      define   PORTS={22,80}
      table ip filter { # the table
      chain input { type filter hook input priority 0 ; policy drop
      tcp dport $PORTS   accept # web and ssh


      ip saddr { 10.0.0.0/8,
                 192.168.0.0/16 } drop
      }
      }
      """
    let (out, diagnostics) = Formatter().format(file: "m.policy", text: messy)
    #expect(diagnostics.isEmpty)
    #expect(
      out == """
        # header comment
        define PORTS = { 22, 80 }
        table ip filter {
          # the table
          chain input {
            type filter hook input priority 0; policy drop;
            tcp dport $PORTS accept  # web and ssh

            ip saddr { 10.0.0.0/8, 192.168.0.0/16 } drop
          }
        }

        """)
    let (a, _) = Fixtures.resolve(text: messy)
    let (b, _) = Fixtures.resolve(text: out!)
    #expect(a != nil && a == b)
  }

  @Test func labPolicyModelIsTheSeed() throws {
    let (policy, _) = Fixtures.resolve(Fixtures.root + "/Rules/lab.policy")
    let p = try #require(policy)
    let topo = try #require(p.topology)
    #expect(topo.namespaces.map(\.name) == ["host", "RED", "BLUE"])
    #expect(topo.bridges.map(\.name) == ["br0"])
    #expect(
      topo.addresses.map { "\($0.namespace) \($0.device) \($0.address)" } == [
        "RED reth0 11.11.11.2/24", "BLUE beth0 11.11.11.3/24",
      ])
    let chain = try #require(p.firewall("host")?.ruleset.table(.ip, "filter")?.chain("FORWARD"))
    #expect(chain.base?.hook == .forward)
    #expect(chain.base?.policy == .drop)
    #expect(chain.base?.priority.value == 0)
    #expect(chain.rules.count == 1)
    let rule = chain.rules[0]
    #expect(rule.verdict == .accept)
    #expect(
      rule.matches.first?.kind
        == .address(.v4, .source, .single(.prefix(IPPrefix(address: IPAddress("11.11.11.0")!, length: 24)))))
    #expect(rule.location.line == 22 && rule.location.column == 7)
  }

  /// Cases a reviewer found: fmt must keep every comment, be idempotent, and keep meaning.
  @Test(arguments: [
    ("empty block comment", "table ip filter {\n  chain empty { # kept\n  }\n}\n", "# kept"),
    (
      "comment after a closing brace", "table ip filter {\n  chain input { accept; drop }  # after close\n}\n",
      "}  # after close"
    ),
    (
      "brace on its own line", "table ip filter\n{\n  chain INPUT\n  {\n    accept\n  }\n}\n",
      "  chain INPUT {\n    accept\n  }"
    ),
    (
      "variable host and port",
      "define H = 10.0.0.1\ndefine P = 8080\ntable ip nat {\n  chain PREROUTING {\n    type nat hook prerouting priority dstnat; policy accept;\n    tcp dport 80 dnat to $H:$P\n  }\n}\n",
      "dnat to $H:$P"
    ),
  ])
  func formatKeepsEverything(name: String, text: String, mustContain: String) throws {
    let (once, d1) = Formatter().format(file: "t.policy", text: text)
    #expect(d1.isEmpty)
    let formatted = try #require(once)
    #expect(formatted.contains(mustContain), "\(formatted)")
    let (twice, _) = Formatter().format(file: "t.policy", text: formatted)
    #expect(twice == formatted)
    let (a, da) = Fixtures.resolve(text: text)
    let (b, _) = Fixtures.resolve(text: formatted)
    #expect(da.isEmpty, "\(da)")
    #expect(a != nil && a == b)
  }
}
