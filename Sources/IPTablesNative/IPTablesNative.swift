// Native iptables: filled in by issue #5.
import CIPTC
import NetfilterModel
