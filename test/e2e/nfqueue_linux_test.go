//go:build linux

package e2e

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/foveanet/fovea/test/cluster"
)

// nfnetlink_queue's protocol (linux/netfilter/nfnetlink_queue.h): the
// little of it a delay needs. The Go module proxy offers no NFQUEUE
// library this module may take, so the messages are built here.
const (
	nfnlSubsysQueue    = 3
	nfqnlMsgPacket     = 0
	nfqnlMsgVerdict    = 1
	nfqnlMsgConfig     = 2
	nfqaPacketHdr      = 1
	nfqaVerdictHdr     = 2
	nfqaCfgCmd         = 1
	nfqaCfgParams      = 2
	nfqnlCfgCmdBind    = 1
	nfqnlCopyMeta      = 1
	nfAccept           = 1
	nlaTypeMask        = 0x3fff
	netlinkHeaderBytes = 16
)

// delayQueue accepts each packet netfilter queues to its queue number
// delay after it arrived: a delay for the packets one rule selects, where
// this kernel has no netem. It holds only the packets' ids (copy mode
// meta), so queued packets cost nothing to read.
type delayQueue struct {
	num   uint16
	delay time.Duration
	// mu keeps verdicts due after the queue closed from writing to a
	// descriptor number the process may have reused.
	mu     sync.Mutex
	fd     int
	closed bool
}

// startDelayQueue binds queue num in ns and accepts what it holds until
// ctx ends; the caller then adds the rule sending packets to it.
func startDelayQueue(ctx context.Context, ns *cluster.Netns, num uint16, delay time.Duration) (*delayQueue, error) {
	q := &delayQueue{fd: -1, num: num, delay: delay}
	err := ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		if err != nil {
			return fmt.Errorf("open netfilter netlink socket: %w", err)
		}
		q.fd = fd
		return unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	})
	if err == nil {
		// Wake the reader now and then to see whether ctx ended.
		err = unix.SetsockoptTimeval(q.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Usec: 100000})
	}
	if err == nil {
		err = q.configure(attribute(nfqaCfgCmd, []byte{nfqnlCfgCmdBind, 0, 0, 0}))
	}
	if err == nil {
		params := binary.BigEndian.AppendUint32(nil, 0) // copy range: nothing
		err = q.configure(attribute(nfqaCfgParams, append(params, nfqnlCopyMeta)))
	}
	if err != nil {
		if q.fd >= 0 {
			unix.Close(q.fd)
		}
		return nil, fmt.Errorf("bind NFQUEUE %d: %w", num, err)
	}
	go q.run(ctx)
	return q, nil
}

// attribute is a netlink attribute, padded to four bytes.
func attribute(typ uint16, payload []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// send writes one message of the queue subsystem: the netlink header, the
// nfnetlink header naming the queue, then attrs.
func (q *delayQueue) send(msg uint16, flags uint16, attrs ...[]byte) error {
	body := []byte{unix.AF_UNSPEC, 0, byte(q.num >> 8), byte(q.num)}
	for _, a := range attrs {
		body = append(body, a...)
	}
	b := binary.NativeEndian.AppendUint32(nil, uint32(netlinkHeaderBytes+len(body)))
	b = binary.NativeEndian.AppendUint16(b, nfnlSubsysQueue<<8|msg)
	b = binary.NativeEndian.AppendUint16(b, unix.NLM_F_REQUEST|flags)
	b = binary.NativeEndian.AppendUint32(b, 0) // sequence
	b = binary.NativeEndian.AppendUint32(b, 0) // port: the kernel
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return unix.EBADF
	}
	return unix.Sendto(q.fd, append(b, body...), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
}

// configure sends a config message and waits for the kernel's answer.
func (q *delayQueue) configure(attr []byte) error {
	if err := q.send(nfqnlMsgConfig, unix.NLM_F_ACK, attr); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	n, _, err := unix.Recvfrom(q.fd, buf, 0)
	if err != nil {
		return fmt.Errorf("read config answer: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(buf[:n])
	if err != nil || len(msgs) == 0 || msgs[0].Header.Type != unix.NLMSG_ERROR || len(msgs[0].Data) < 4 {
		return fmt.Errorf("read config answer: %d bytes, %v", n, err)
	}
	if errno := int32(binary.NativeEndian.Uint32(msgs[0].Data)); errno != 0 {
		return syscall.Errno(-errno)
	}
	return nil
}

func (q *delayQueue) run(ctx context.Context) {
	defer func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		q.closed = true
		unix.Close(q.fd)
	}()
	buf := make([]byte, 65536)
	for ctx.Err() == nil {
		n, _, err := unix.Recvfrom(q.fd, buf, 0)
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) || errors.Is(err, unix.ENOBUFS) {
			continue
		}
		if err != nil {
			return
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			continue
		}
		for _, m := range msgs {
			if m.Header.Type != nfnlSubsysQueue<<8|nfqnlMsgPacket {
				continue
			}
			if id, ok := packetID(m.Data); ok {
				time.AfterFunc(q.delay, func() {
					verdict := binary.BigEndian.AppendUint32(nil, nfAccept)
					_ = q.send(nfqnlMsgVerdict, 0, attribute(nfqaVerdictHdr, binary.BigEndian.AppendUint32(verdict, id)))
				})
			}
		}
	}
}

// packetID reads the queued packet's id from its header attribute, behind
// the nfnetlink header.
func packetID(data []byte) (uint32, bool) {
	for b := data[min(4, len(data)):]; len(b) >= 4; {
		l := int(binary.NativeEndian.Uint16(b))
		if l < 4 || l > len(b) {
			return 0, false
		}
		if binary.NativeEndian.Uint16(b[2:])&nlaTypeMask == nfqaPacketHdr && l >= 8 {
			return binary.BigEndian.Uint32(b[4:]), true
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return 0, false
}
