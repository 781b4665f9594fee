import NetfilterModel
import RulesetImport
import Testing

/// A listing with one `ip filter` table (or `family`): an input base chain holding `rule` at
/// line 4, column 5, and a regular chain `user`.
func nftTable(_ rule: String, family: String = "ip") -> String {
  """
  table \(family) filter {
    chain input {
      type filter hook input priority filter; policy drop;
      \(rule)
    }
    chain user {
    }
  }

  """
}

/// Imports one rule line (no errors allowed) and returns the input chain's rules and the import.
func importNFTRules(_ rule: String, family: String = "ip") throws -> ([Rule], ImportedRuleset) {
  let imported = NFTTextImporter(files: .memory([:])).importRuleset(nftTable(rule, family: family), file: "r.nft")
  #expect(imported.errors.isEmpty, "\(imported.errors)")
  let rules = try #require(imported.ruleset.tables.first?.chain("input")?.rules)
  return (rules, imported)
}

/// Imports one rule line that becomes exactly one model rule.
func importNFTRule(_ rule: String, family: String = "ip") throws -> (Rule, ImportedRuleset) {
  let (rules, imported) = try importNFTRules(rule, family: family)
  #expect(rules.count == 1)
  return (try #require(rules.first), imported)
}

func nftPrefix(_ s: String) -> AddressElement {
  let parts = s.split(separator: "/")
  let a = IPAddress(String(parts[0]))!
  return .prefix(IPPrefix(address: a, length: parts.count > 1 ? Int(parts[1])! : a.bitWidth))
}

func opaqueNFT(_ module: String, _ text: String) -> Match {
  Match(.opaque(OpaqueMatch(module: module, text: text, syntax: .nft)))
}

@Suite struct NFTTextImportTests {
  @Test func tablesChainsPoliciesAndPriorities() throws {
    let text = """
      table ip filter {
        chain input {
          type filter hook input priority filter; policy drop;
          accept
        }
        chain user {
        }
      }
      table ip6 raw6 {
        chain pre { type filter hook prerouting priority raw; }
        chain out { type filter hook output priority -300; policy accept; }
      }
      table inet t {
        chain a { type filter hook forward priority filter + 10; policy drop; }
        chain b { type filter hook prerouting priority mangle - 5; }
        chain c { type nat hook prerouting priority dstnat; }
        chain d { type nat hook postrouting priority srcnat; }
        chain e { type route hook output priority mangle; }
        chain f { type filter hook ingress device "eth0" priority 0; }
        chain g { type filter hook input priority 50; }
      }
      """
    let imported = NFTTextImporter().importRuleset(text, file: "r.nft")
    #expect(imported.diagnostics.isEmpty, "\(imported.diagnostics)")
    #expect(
      imported.ruleset.tables[0]
        == Table(
          family: .ip, name: "filter",
          chains: [
            Chain(
              name: "input",
              kind: .base(BaseChain(type: .filter, hook: .input, priority: .number(0), policy: .drop)),
              rules: [Rule(verdict: .accept)]),
            Chain(name: "user", kind: .regular),
          ]))
    #expect(imported.ruleset.tables.map(\.family) == [.ip, .ip6, .inet])
    #expect(imported.ruleset.tables[0].chains[0].base?.location.description == "r.nft:3:5")
    let bases = imported.ruleset.tables.dropFirst().flatMap(\.chains).map(\.base)
    #expect(
      bases == [
        BaseChain(type: .filter, hook: .prerouting, priority: Priority(name: .raw)),
        BaseChain(type: .filter, hook: .output, priority: .number(-300)),
        BaseChain(type: .filter, hook: .forward, priority: Priority(name: .filter, offset: 10), policy: .drop),
        BaseChain(type: .filter, hook: .prerouting, priority: Priority(name: .mangle, offset: -5)),
        BaseChain(type: .nat, hook: .prerouting, priority: Priority(name: .dstnat)),
        BaseChain(type: .nat, hook: .postrouting, priority: Priority(name: .srcnat)),
        BaseChain(type: .route, hook: .output, priority: Priority(name: .mangle)),
        BaseChain(type: .filter, hook: .ingress, priority: .number(0), device: "eth0"),
        BaseChain(type: .filter, hook: .input, priority: .number(50)),
      ])
    // The number the kernel sees, and the name a listing shows, are kept.
    #expect(bases.map { $0?.priority.value } == [-300, -300, 10, -155, -100, 100, -150, 0, 50])
    #expect(bases[2]?.priority.description == "filter + 10")
  }

  @Test func addresses() throws {
    let (rule, imported) = try importNFTRule(
      "ip saddr 10.0.0.1 ip daddr != 10.0.0.0/8 ip saddr 172.16.0.1-172.16.0.9 ip daddr { 192.0.2.1, 198.51.100.0/24 } ip saddr 10.1.2.3/16 drop"
    )
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rule.matches == [
        Match(.address(.v4, .source, .single(nftPrefix("10.0.0.1")))),
        Match(.address(.v4, .destination, .single(nftPrefix("10.0.0.0/8"))), negated: true),
        Match(.address(.v4, .source, .single(.range(IPAddress("172.16.0.1")!, IPAddress("172.16.0.9")!)))),
        Match(.address(.v4, .destination, .set([nftPrefix("192.0.2.1"), nftPrefix("198.51.100.0/24")]))),
        // Host bits are cleared, as nft does.
        Match(.address(.v4, .source, .single(nftPrefix("10.1.0.0/16")))),
      ])
    #expect(rule.verdict == .drop)
    let (v6, _) = try importNFTRule("ip6 saddr fe80::/10 ip6 daddr != { ::1, 2001:db8::/32 } accept", family: "ip6")
    #expect(
      v6.matches == [
        Match(.address(.v6, .source, .single(nftPrefix("fe80::/10")))),
        Match(.address(.v6, .destination, .set([nftPrefix("::1"), nftPrefix("2001:db8::/32")])), negated: true),
      ])
  }

  @Test func aOneElementSetIsASingleValueAsNFTListsIt() throws {
    let (rule, _) = try importNFTRule("ip saddr { 10.149.106.64/29} tcp dport { 22 } accept")
    #expect(
      rule.matches == [
        Match(.address(.v4, .source, .single(nftPrefix("10.149.106.64/29")))),
        Match(.port(.tcp, .destination, .single(PortRange(22)))),
      ])
  }

  @Test func protocolsAndPorts() throws {
    let (rule, imported) = try importNFTRule(
      "meta l4proto tcp ip protocol != { gre, 50 } tcp dport 22 tcp sport != 1024-65535 udp dport { 53, 5000-5010 } udp sport ssh accept"
    )
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rule.matches == [
        Match(.l4proto(.metaL4proto, .single(6))),
        Match(.l4proto(.ipProtocol, .set([47, 50])), negated: true),
        Match(.port(.tcp, .destination, .single(PortRange(22)))),
        Match(.port(.tcp, .source, .single(PortRange(1024, 65535))), negated: true),
        Match(.port(.udp, .destination, .set([PortRange(53), PortRange(5000, 5010)]))),
        Match(.port(.udp, .source, .single(PortRange(22)))),
      ])
    let (v6, _) = try importNFTRule("ip6 nexthdr ipv6-icmp accept", family: "ip6")
    #expect(v6.matches == [Match(.l4proto(.ip6NextHeader, .single(58)))])
  }

  @Test(arguments: [
    ("tcp dport < 1024", PortRange(0, 1023)),
    ("tcp dport <= 1024", PortRange(0, 1024)),
    ("tcp dport > 1024", PortRange(1025, 65535)),
    ("tcp dport >= 1024", PortRange(1024, 65535)),
    ("tcp dport ge 1024", PortRange(1024, 65535)),
  ])
  func portComparisonsAreRanges(_ text: String, _ range: PortRange) throws {
    let (rule, _) = try importNFTRule(text + " accept")
    #expect(rule.matches == [Match(.port(.tcp, .destination, .single(range)))])
  }

  @Test func icmpInterfacesMarksAndEther() throws {
    let (rule, imported) = try importNFTRule(
      #"icmp type { echo-reply, 8 } icmp code host-unreachable iifname "veth*" oifname != { "eth0", eth1 } meta mark 0x10 mark & 0xff00 == 0x100 meta mark & 0xff != 0x1 meta mark & 0xffffffff == 0x7 ether saddr 00:11:22:aa:bb:cc accept"#
    )
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rule.matches == [
        Match(.icmpType(.v4, .set([0, 8]))),
        Match(.icmpCode(.v4, .single(1))),
        Match(.interface(.input, .single(InterfacePattern(name: "veth", isWildcard: true)))),
        Match(
          .interface(.output, .set([InterfacePattern(name: "eth0"), InterfacePattern(name: "eth1")])), negated: true),
        Match(.mark(value: 0x10, mask: nil)),
        Match(.mark(value: 0x100, mask: 0xff00)),
        Match(.mark(value: 1, mask: 0xff), negated: true),
        Match(.mark(value: 7, mask: nil)),
        Match(.etherSource(.single(MACAddress("00:11:22:aa:bb:cc")!))),
      ])
    let (v6, _) = try importNFTRule("icmpv6 type { 128, nd-neighbor-solicit } icmpv6 code 4 accept", family: "inet")
    #expect(v6.matches == [Match(.icmpType(.v6, .set([128, 135]))), Match(.icmpCode(.v6, .single(4)))])
  }

  @Test(arguments: [
    ("ct state established,related", Match(.ctState([.established, .related]))),
    ("ct state established | related", Match(.ctState([.established, .related]))),
    ("ct state { established, related }", Match(.ctState([.established, .related]))),
    ("ct state new", Match(.ctState([.new]))),
    ("ct state == new", Match(.ctState([.new]))),
    ("ct state != invalid", Match(.ctState([.invalid]), negated: true)),
    ("ct state != { invalid, untracked }", Match(.ctState([.invalid, .untracked]), negated: true)),
    ("ct state ! invalid,untracked", Match(.ctState([.invalid, .untracked]), negated: true)),
    // One state per packet: `!=` two flags compares with their sum, which every packet differs from.
    ("ct state != established,related", opaqueNFT("ct state", "ct state != established,related")),
  ])
  func conntrackStates(_ text: String, _ expected: Match) throws {
    let (rule, _) = try importNFTRule(text + " accept")
    #expect(rule.matches == [expected])
  }

  @Test(arguments: [
    ("tcp flags syn / syn,ack", Match(.tcpFlags(value: .syn, mask: [.syn, .ack]))),
    ("tcp flags != syn / syn,ack", Match(.tcpFlags(value: .syn, mask: [.syn, .ack]), negated: true)),
    ("tcp flags & (fin | syn | rst | ack) == syn", Match(.tcpFlags(value: .syn, mask: [.fin, .syn, .rst, .ack]))),
    ("tcp flags & (syn|ack) != syn", Match(.tcpFlags(value: .syn, mask: [.syn, .ack]), negated: true)),
    // nft 1.0: a bare flag is set; a bare list has one of them set; `!` none.
    ("tcp flags syn", Match(.tcpFlags(value: .syn, mask: .syn))),
    ("tcp flags syn,ack", Match(.tcpFlags(value: [], mask: [.syn, .ack]), negated: true)),
    ("tcp flags ! fin,rst", Match(.tcpFlags(value: [], mask: [.fin, .rst]))),
    // `==` and `!=` compare all eight bits.
    ("tcp flags == syn", Match(.tcpFlags(value: .syn, mask: TCPFlags(rawValue: 0xff)))),
    ("tcp flags != 0x12", Match(.tcpFlags(value: [.syn, .ack], mask: TCPFlags(rawValue: 0xff)), negated: true)),
    ("tcp flags { syn, ack }", opaqueNFT("tcp flags", "tcp flags { syn, ack }")),
  ])
  func tcpFlags(_ text: String, _ expected: Match) throws {
    let (rule, _) = try importNFTRule(text + " accept")
    #expect(rule.matches == [expected])
  }

  @Test func familiesAndInterfaceIndexes() throws {
    let (rule, imported) = try importNFTRule(
      #"meta nfproto ipv4 iif "lo" oif != { lo, "eth0" } meta iif eth1 meta nfproto != ipv6 accept"#, family: "inet")
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rule.matches == [
        Match(.nfproto(.v4)), Match(.interfaceIndex(.input, .single("lo"))),
        Match(.interfaceIndex(.output, .set(["lo", "eth0"])), negated: true),
        Match(.interfaceIndex(.input, .single("eth1"))), Match(.nfproto(.v6), negated: true),
      ])
    // nft refuses meta nfproto outside inet tables.
    let ip = NFTTextImporter().importRuleset(nftTable("meta nfproto ipv4 accept"), file: "r.nft")
    #expect(
      ip.errors.map(\.description) == [
        "r.nft:4:5: error: meta nfproto is only useful in the inet family (nft refuses it in ip tables)"
      ])
    // An index names one interface: a wildcard stays as written.
    let (wildcard, _) = try importNFTRule(#"iif "eth*" accept"#, family: "inet")
    #expect(wildcard.matches == [opaqueNFT("iif", #"iif "eth*""#)])
  }

  @Test func limitsCountersLogsAndMarks() throws {
    let (rule, imported) = try importNFTRule(
      #"limit rate 25/second burst 50 packets limit rate over 3/minute limit rate 1000/second burst 5 packets limit rate 10 mbytes/second burst 10 kbytes counter packets 1 bytes 60 log prefix "in: " level info log meta mark set 0x2a"#
    )
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rule.matches == [
        Match(.limit(RateLimit(rate: 25, unit: .second, burst: 50))),
        Match(.limit(RateLimit(rate: 3, unit: .minute, over: true))),
        Match(.limit(RateLimit(rate: 1000, unit: .second))),
        Match(.limit(RateLimit(rate: 10 * 1024 * 1024, unit: .second, quantity: .bytes, burst: 10 * 1024))),
      ])
    #expect(
      rule.statements == [
        Statement(.counter), Statement(.log(prefix: "in: ", level: .info)), Statement(.log(prefix: nil, level: nil)),
        Statement(.setMark(42)),
      ])
    #expect(rule.verdict == nil)
    let (short, _) = try importNFTRule("mark set 5 accept")
    #expect(short.statements == [Statement(.setMark(5))])
  }

  @Test(arguments: [
    ("accept", Verdict.accept),
    ("drop", .drop),
    ("continue", .continue),
    ("return", .return),
    ("jump user", .jump(chain: "user")),
    ("goto user", .goto(chain: "user")),
    ("reject", .reject(nil)),
    ("reject with tcp reset", .reject(.tcpReset)),
    ("reject with icmp type net-prohibited", .reject(.icmp(.netProhibited))),
    ("reject with icmp host-prohibited", .reject(.icmp(.hostProhibited))),
    ("reject with icmp 3", .reject(.icmp(.portUnreachable))),
    ("reject with icmpv6 admin-prohibited", .reject(.icmpv6(.adminProhibited))),
    ("reject with icmpv6 type no-route", .reject(.icmpv6(.noRoute))),
    ("reject with icmpx type port-unreachable", .reject(.icmpx(.portUnreachable))),
    ("reject with icmpx admin-prohibited", .reject(.icmpx(.adminProhibited))),
  ])
  func verdicts(_ text: String, _ verdict: Verdict) throws {
    let (rule, imported) = try importNFTRule(text, family: "inet")
    #expect(imported.diagnostics.isEmpty)
    #expect(rule == Rule(verdict: verdict))
  }

  @Test(arguments: [
    (
      "snat 10.149.107.130-10.149.107.135",
      Verdict.snat(NATDestination(address: IPAddress("10.149.107.130")!, lastAddress: IPAddress("10.149.107.135")!))
    ),
    ("snat to 203.0.113.6:2525", .snat(NATDestination(address: IPAddress("203.0.113.6")!, ports: PortRange(2525)))),
    (
      "snat ip to 10.0.0.1-10.0.0.9:1000-2000",
      .snat(
        NATDestination(
          address: IPAddress("10.0.0.1")!, lastAddress: IPAddress("10.0.0.9")!, ports: PortRange(1000, 2000)))
    ),
    ("dnat 10.13.37.100", .dnat(NATDestination(address: IPAddress("10.13.37.100")!))),
    ("dnat ip6 to [fd00::1]:80", .dnat(NATDestination(address: IPAddress("fd00::1")!, ports: PortRange(80)))),
    ("dnat to fd00::1", .dnat(NATDestination(address: IPAddress("fd00::1")!))),
    ("masquerade", .masquerade(ports: nil)),
    ("masquerade to :1000-2000", .masquerade(ports: PortRange(1000, 2000))),
    ("redirect to :8080", .redirect(ports: PortRange(8080))),
    ("redirect", .redirect(ports: nil)),
  ])
  func nat(_ text: String, _ verdict: Verdict) throws {
    let (rule, imported) = try importNFTRule("tcp dport 80 " + text, family: "inet")
    #expect(imported.diagnostics.isEmpty)
    #expect(rule.verdict == verdict)
  }

  @Test func commentsQuotedStringsAndSeparators() throws {
    let (rules, imported) = try importNFTRules(
      #"iifname "lo" accept comment "loop back"; tcp dport 22 accept # ssh"#)
    #expect(imported.diagnostics.isEmpty)
    #expect(
      rules == [
        Rule(
          matches: [Match(.interface(.input, .single(InterfacePattern(name: "lo"))))], verdict: .accept,
          comment: "loop back"),
        Rule(matches: [Match(.port(.tcp, .destination, .single(PortRange(22))))], verdict: .accept),
      ])
    #expect(rules[1].location.description == "r.nft:4:46")
  }

  @Test func locationsOfRulesMatchesAndVerdicts() throws {
    let (rule, _) = try importNFTRule("ip saddr 10.0.0.1 tcp dport 22 counter accept")
    #expect(rule.location.description == "r.nft:4:5")
    #expect(rule.matches.map(\.location.description) == ["r.nft:4:5", "r.nft:4:23"])
    #expect(rule.statements.map(\.location.description) == ["r.nft:4:36"])
    #expect(rule.verdictLocation.description == "r.nft:4:44")
  }
}
