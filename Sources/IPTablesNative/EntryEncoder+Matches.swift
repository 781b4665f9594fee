import CIPTC

extension EntryEncoder {
  /// One `struct xt_entry_match` with its payload, in the revision iptables-legacy 1.8.9 picks.
  func match(_ match: IPTMatch, into writer: inout EntryWriter) {
    switch match {
    case .tcp(let t):
      writer.record(name: "tcp", revision: 0, xt_tcp.self) { info in
        info.spts = ports(t.sourcePorts?.value)
        info.dpts = ports(t.destinationPorts?.value)
        var inverse: Int32 = 0
        if t.sourcePorts?.negated == true { inverse |= XT_TCP_INV_SRCPT }
        if t.destinationPorts?.negated == true { inverse |= XT_TCP_INV_DSTPT }
        if let flags = t.flags {
          info.flg_mask = flags.value.mask
          info.flg_cmp = flags.value.compare
          if flags.negated { inverse |= XT_TCP_INV_FLAGS }
        }
        info.invflags = UInt8(inverse)
      }
    case .udp(let u):
      writer.record(name: "udp", revision: 0, xt_udp.self) { info in
        info.spts = ports(u.sourcePorts?.value)
        info.dpts = ports(u.destinationPorts?.value)
        var inverse: Int32 = 0
        if u.sourcePorts?.negated == true { inverse |= XT_UDP_INV_SRCPT }
        if u.destinationPorts?.negated == true { inverse |= XT_UDP_INV_DSTPT }
        info.invflags = UInt8(inverse)
      }
    case .icmp(let icmp):
      // ipt_icmp and ip6t_icmp share one layout: type, code[2], invflags.
      writer.record(name: family == .ipv4 ? "icmp" : "icmp6", revision: 0, ipt_icmp.self) { info in
        info.type = icmp.value.type
        info.code = (icmp.value.codes.lowerBound, icmp.value.codes.upperBound)
        info.invflags = icmp.negated ? UInt8(IPT_ICMP_INV) : 0
      }
    case .multiport(let m):
      writer.record(name: "multiport", revision: 1, xt_multiport_v1.self) { info in
        info.flags = UInt8(m.source ? XT_MULTIPORT_SOURCE.rawValue : XT_MULTIPORT_DESTINATION.rawValue)
        var ports: [UInt16] = []
        var rangeStarts: [UInt8] = []
        for range in m.ports {
          if range.count == 1 {
            ports.append(range.lowerBound)
            rangeStarts.append(0)
          } else {
            ports += [range.lowerBound, range.upperBound]
            rangeStarts += [1, 0]
          }
        }
        info.count = UInt8(ports.count)
        Bytes.fill(&info.ports, with: ports)
        Bytes.fill(&info.pflags, with: rangeStarts)
        info.invert = m.negated ? 1 : 0
      }
    case .conntrack(let states):
      writer.record(name: "conntrack", revision: 3, xt_conntrack_mtinfo3.self) { info in
        info.match_flags = UInt16(XT_CONNTRACK_STATE)
        info.invert_flags = states.negated ? UInt16(XT_CONNTRACK_STATE) : 0
        info.state_mask = UInt16(states.value)
      }
    case .iprange(let source, let destination):
      writer.record(name: "iprange", revision: 1, xt_iprange_mtinfo.self) { info in
        var flags: UInt32 = 0
        if let source {
          Bytes.fill(&info.src_min, with: source.value.first)
          Bytes.fill(&info.src_max, with: source.value.last)
          flags |= UInt32(IPRANGE_SRC) | (source.negated ? UInt32(IPRANGE_SRC_INV) : 0)
        }
        if let destination {
          Bytes.fill(&info.dst_min, with: destination.value.first)
          Bytes.fill(&info.dst_max, with: destination.value.last)
          flags |= UInt32(IPRANGE_DST) | (destination.negated ? UInt32(IPRANGE_DST_INV) : 0)
        }
        info.flags = UInt8(flags)
      }
    case .mac(let mac):
      writer.record(name: "mac", revision: 0, xt_mac_info.self) { info in
        Bytes.fill(&info.srcaddr, with: mac.value)
        info.invert = mac.negated ? 1 : 0
      }
    case .mark(let mark):
      writer.record(name: "mark", revision: 1, xt_mark_mtinfo1.self) { info in
        info.mark = mark.value.value
        info.mask = mark.value.mask
        info.invert = mark.negated ? 1 : 0
      }
    case .comment(let text):
      writer.record(name: "comment", revision: 0, xt_comment_info.self) { info in
        Bytes.fill(&info.comment, string: text)
      }
    case .limit(let average, let burst):
      writer.record(name: "limit", revision: 0, xt_rateinfo.self) { info in
        info.avg = average
        info.burst = burst
      }
    case .physdev(let physdev):
      writer.record(name: "physdev", revision: 0, xt_physdev_info.self) { info in
        var present: Int32 = 0
        var inverse: Int32 = 0
        if let input = physdev.input {
          let (name, mask) = Bytes.interface(input.value)
          Bytes.fill(&info.physindev, with: name)
          Bytes.fill(&info.in_mask, with: mask)
          present |= XT_PHYSDEV_OP_IN
          if input.negated { inverse |= XT_PHYSDEV_OP_IN }
        }
        if let output = physdev.output {
          let (name, mask) = Bytes.interface(output.value)
          Bytes.fill(&info.physoutdev, with: name)
          Bytes.fill(&info.out_mask, with: mask)
          present |= XT_PHYSDEV_OP_OUT
          if output.negated { inverse |= XT_PHYSDEV_OP_OUT }
        }
        for (test, flag) in [
          (physdev.isIn, XT_PHYSDEV_OP_ISIN), (physdev.isOut, XT_PHYSDEV_OP_ISOUT),
          (physdev.isBridged, XT_PHYSDEV_OP_BRIDGED),
        ] {
          guard let test else { continue }
          present |= flag
          if !test { inverse |= flag }
        }
        info.bitmask = UInt8(present)
        info.invert = UInt8(inverse)
      }
    default:
      moreMatch(match, into: &writer)
    }
  }

  /// A port range as the tcp/udp matches hold it (host order); absent is every port.
  func ports(_ range: ClosedRange<UInt16>?) -> (UInt16, UInt16) {
    guard let range else { return (0, UInt16.max) }
    return (range.lowerBound, range.upperBound)
  }
}
