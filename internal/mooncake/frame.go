package mooncake

import (
	"encoding/binary"
	"fmt"
	"io"
)

// coro_rpc framing constants (spec §1).
const (
	Magic              = 0x15
	RequestHeaderSize  = 20
	ResponseHeaderSize = 16
	// DefaultMaxFrameSize bounds body and attachment lengths accepted by
	// ReadRequest and ReadResponse when no limit is given (the Client bounds
	// each reply by its request instead, see limits.go). Bodies are read
	// incrementally, so memory grows only with the bytes actually received
	// even below this limit.
	DefaultMaxFrameSize = 256 << 20
)

// RequestHeader is the 20-byte coro_rpc request header.
type RequestHeader struct {
	Magic         uint8
	Version       uint8
	SerializeType uint8
	MsgType       uint8
	Seq           uint32
	FunctionID    uint32
	Length        uint32
	AttachLength  uint32
}

// ResponseHeader is the 16-byte coro_rpc response header.
type ResponseHeader struct {
	Magic        uint8
	Version      uint8
	ErrCode      uint8
	MsgType      uint8
	Seq          uint32
	Length       uint32
	AttachLength uint32
}

// AppendRequestHeader appends h in wire form.
func AppendRequestHeader(dst []byte, h RequestHeader) []byte {
	dst = append(dst, h.Magic, h.Version, h.SerializeType, h.MsgType)
	dst = binary.LittleEndian.AppendUint32(dst, h.Seq)
	dst = binary.LittleEndian.AppendUint32(dst, h.FunctionID)
	dst = binary.LittleEndian.AppendUint32(dst, h.Length)
	return binary.LittleEndian.AppendUint32(dst, h.AttachLength)
}

// ParseRequestHeader decodes a request header. It fails on short input,
// wrong magic, a version above 0 or a serialize type other than struct_pack,
// the cases where a ylt server drops the connection.
func ParseRequestHeader(b []byte) (RequestHeader, error) {
	if len(b) < RequestHeaderSize {
		return RequestHeader{}, &ProtocolError{Offset: len(b), Msg: "short request header", Err: ErrShortBody}
	}
	h := RequestHeader{
		Magic: b[0], Version: b[1], SerializeType: b[2], MsgType: b[3],
		Seq:          binary.LittleEndian.Uint32(b[4:]),
		FunctionID:   binary.LittleEndian.Uint32(b[8:]),
		Length:       binary.LittleEndian.Uint32(b[12:]),
		AttachLength: binary.LittleEndian.Uint32(b[16:]),
	}
	switch {
	case h.Magic != Magic:
		return h, &ProtocolError{Offset: 0, Msg: fmt.Sprintf("magic 0x%02x", h.Magic), Err: ErrBadMagic}
	case h.Version != 0:
		return h, &ProtocolError{Offset: 1, Msg: fmt.Sprintf("version %d", h.Version), Err: ErrBadMagic}
	case h.SerializeType != 0:
		return h, &ProtocolError{Offset: 2, Msg: fmt.Sprintf("serialize_type %d", h.SerializeType), Err: ErrBadMagic}
	}
	return h, nil
}

// AppendResponseHeader appends h in wire form.
func AppendResponseHeader(dst []byte, h ResponseHeader) []byte {
	dst = append(dst, h.Magic, h.Version, h.ErrCode, h.MsgType)
	dst = binary.LittleEndian.AppendUint32(dst, h.Seq)
	dst = binary.LittleEndian.AppendUint32(dst, h.Length)
	return binary.LittleEndian.AppendUint32(dst, h.AttachLength)
}

// ParseResponseHeader decodes a response header, checking magic and version.
func ParseResponseHeader(b []byte) (ResponseHeader, error) {
	if len(b) < ResponseHeaderSize {
		return ResponseHeader{}, &ProtocolError{Offset: len(b), Msg: "short response header", Err: ErrShortBody}
	}
	h := ResponseHeader{
		Magic: b[0], Version: b[1], ErrCode: b[2], MsgType: b[3],
		Seq:          binary.LittleEndian.Uint32(b[4:]),
		Length:       binary.LittleEndian.Uint32(b[8:]),
		AttachLength: binary.LittleEndian.Uint32(b[12:]),
	}
	switch {
	case h.Magic != Magic:
		return h, &ProtocolError{Offset: 0, Msg: fmt.Sprintf("magic 0x%02x", h.Magic), Err: ErrBadMagic}
	case h.Version != 0:
		return h, &ProtocolError{Offset: 1, Msg: fmt.Sprintf("version %d", h.Version), Err: ErrBadMagic}
	}
	return h, nil
}

// readBody reads n bytes. Bodies up to 4 MiB (a real reply for a 1M-token
// prompt is about 1 MB) are read into one exact allocation, so a lying
// length field costs at most that much (and the Client never lets it
// exceed what the request can produce); larger ones grow in steps so that
// it costs at most about twice the bytes the peer really sent.
func readBody(r io.Reader, n uint32) ([]byte, error) {
	const step = 4 << 20
	if n <= step {
		b := make([]byte, n)
		m, err := io.ReadFull(r, b)
		return b[:m], err
	}
	b := make([]byte, 0, step)
	for len(b) < int(n) {
		if len(b) == cap(b) {
			nb := make([]byte, len(b), min(2*cap(b), int(n)))
			copy(nb, b)
			b = nb
		}
		m, err := io.ReadFull(r, b[len(b):min(cap(b), int(n))])
		b = b[:len(b)+m]
		if err != nil {
			return b, err
		}
	}
	return b, nil
}

// truncated turns the end of the stream inside a frame (after its first
// byte) into a *ProtocolError: the peer started a frame and did not finish
// it. Other errors (reset, timeout) pass through unchanged.
func truncated(err error, off int, what string, got, want uint64) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &ProtocolError{Offset: off, Msg: fmt.Sprintf("connection closed after %d of the %d %s bytes", got, want, what), Err: ErrTruncated}
	}
	return err
}

// readHeader reads a size-byte header. A stream that ends before its first
// byte yields io.EOF (the peer went away between frames); one that ends
// inside it, a *ProtocolError wrapping ErrTruncated.
func readHeader(r io.Reader, hb []byte) error {
	n, err := io.ReadFull(r, hb)
	if err == nil || (err == io.EOF && n == 0) {
		return err
	}
	return truncated(err, n, "header", uint64(n), uint64(len(hb)))
}

// readRest reads the body of a frame whose header (hsize bytes) announced
// length and attach bytes, and discards the attachment.
func readRest(r io.Reader, hsize int, length, attach uint32) ([]byte, error) {
	body, err := readBody(r, length)
	if err != nil {
		return nil, truncated(err, hsize+len(body), "body", uint64(len(body)), uint64(length))
	}
	if attach > 0 {
		m, err := io.CopyN(io.Discard, r, int64(attach))
		if err != nil {
			return nil, truncated(err, hsize+len(body)+int(m), "attachment", uint64(m), uint64(attach))
		}
	}
	return body, nil
}

// ReadRequest reads one request frame (header, body, attachment, which is
// discarded) from r. maxFrame bounds length and attach_length (0 means
// DefaultMaxFrameSize). io.EOF is returned only on a clean end of stream
// before the first header byte; a stream that ends inside the frame is a
// *ProtocolError wrapping ErrTruncated.
func ReadRequest(r io.Reader, maxFrame uint32) (RequestHeader, []byte, error) {
	if maxFrame == 0 {
		maxFrame = DefaultMaxFrameSize
	}
	var hb [RequestHeaderSize]byte
	if err := readHeader(r, hb[:]); err != nil {
		return RequestHeader{}, nil, err
	}
	h, err := ParseRequestHeader(hb[:])
	if err != nil {
		return h, nil, err
	}
	if h.Length > maxFrame || h.AttachLength > maxFrame {
		return h, nil, &ProtocolError{Offset: 12, Msg: fmt.Sprintf("frame of %d+%d bytes exceeds limit %d", h.Length, h.AttachLength, maxFrame), Err: ErrFrameTooLarge}
	}
	body, err := readRest(r, RequestHeaderSize, h.Length, h.AttachLength)
	return h, body, err
}

// readResponseHeader reads and parses one response header (see readHeader).
func readResponseHeader(r io.Reader) (ResponseHeader, error) {
	var hb [ResponseHeaderSize]byte
	if err := readHeader(r, hb[:]); err != nil {
		return ResponseHeader{}, err
	}
	return ParseResponseHeader(hb[:])
}

// ReadResponse reads one response frame from r, like ReadRequest.
func ReadResponse(r io.Reader, maxFrame uint32) (ResponseHeader, []byte, error) {
	if maxFrame == 0 {
		maxFrame = DefaultMaxFrameSize
	}
	h, err := readResponseHeader(r)
	if err != nil {
		return h, nil, err
	}
	if h.Length > maxFrame || h.AttachLength > maxFrame {
		return h, nil, &ProtocolError{Offset: 8, Msg: fmt.Sprintf("frame of %d+%d bytes exceeds limit %d", h.Length, h.AttachLength, maxFrame), Err: ErrFrameTooLarge}
	}
	body, err := readRest(r, ResponseHeaderSize, h.Length, h.AttachLength)
	return h, body, err
}

// DecodeResponseFrame parses one complete response frame held in b and
// returns its header, body and the bytes that follow it.
func DecodeResponseFrame(b []byte) (ResponseHeader, []byte, []byte, error) {
	h, err := ParseResponseHeader(b)
	if err != nil {
		return h, nil, nil, err
	}
	end := uint64(ResponseHeaderSize) + uint64(h.Length) + uint64(h.AttachLength)
	if end > uint64(len(b)) {
		return h, nil, nil, &ProtocolError{Offset: len(b), Msg: fmt.Sprintf("frame needs %d bytes, have %d", end, len(b)), Err: ErrShortBody}
	}
	body := b[ResponseHeaderSize : ResponseHeaderSize+int(h.Length)]
	return h, body, b[end:], nil
}

// DecodeRequestFrame parses one complete request frame held in b.
func DecodeRequestFrame(b []byte) (RequestHeader, []byte, []byte, error) {
	h, err := ParseRequestHeader(b)
	if err != nil {
		return h, nil, nil, err
	}
	end := uint64(RequestHeaderSize) + uint64(h.Length) + uint64(h.AttachLength)
	if end > uint64(len(b)) {
		return h, nil, nil, &ProtocolError{Offset: len(b), Msg: fmt.Sprintf("frame needs %d bytes, have %d", end, len(b)), Err: ErrShortBody}
	}
	body := b[RequestHeaderSize : RequestHeaderSize+int(h.Length)]
	return h, body, b[end:], nil
}

// litErrMsg and litErrPair, the literals of the two coro_rpc error bodies
// (spec §1.2), are in literals_gen.go.

// DecodeRPCError turns a reply with a non-zero err_code into an *RPCError.
// err_code 255 means the real errc is inside the body as pair<u16,string>.
// A body that cannot be decoded still yields an *RPCError, with a message
// saying so.
func DecodeRPCError(errCode uint8, body []byte) *RPCError {
	e := &RPCError{Code: Errc(errCode)}
	if errCode == 255 {
		if _, d, err := OpenBody(body, ResponseHeaderSize, litErrPair); err == nil {
			c := d.U16()
			msg := d.Str()
			if d.Err() == nil {
				e.Code, e.Msg = Errc(c), msg
			} else {
				e.Msg = "undecodable error body: " + d.Err().Error()
			}
		} else {
			e.Msg = "undecodable error body: " + err.Error()
		}
	} else if _, d, err := OpenBody(body, ResponseHeaderSize, litErrMsg); err == nil {
		e.Msg = d.Str()
		if d.Err() != nil {
			e.Msg = "undecodable error body: " + d.Err().Error()
		}
	} else {
		e.Msg = "undecodable error body: " + err.Error()
	}
	e.Name = e.Code.String()
	return e
}

// AppendRPCErrorBody appends the body of an error reply for code. Codes
// above 254 use the pair form; the returned byte is the header's err_code.
func AppendRPCErrorBody(dst []byte, code Errc, msg string, f BodyFormat) ([]byte, uint8) {
	if code > 254 {
		return AppendBody(dst, litErrPair, f, func(e *Encoder) { e.U16(uint16(code)); e.Str(msg) }), 255
	}
	return AppendBody(dst, litErrMsg, f, func(e *Encoder) { e.Str(msg) }), uint8(code)
}
