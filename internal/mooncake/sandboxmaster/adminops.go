package sandboxmaster

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	mc "lmc/internal/mooncake"
)

// Admin routes of the store operations (mooncake-ops.md §5.2, §7.1), with
// the real master's shapes: /get_segments_detail (names, ids, owner,
// endpoint, range, status name, usage, capacity), /query_segment (text; the
// name is not URL-decoded; unknown: HTTP 500 "Failed to query segment"),
// /api/v1/segments/status (JSON; URL-decoded), POST /api/v1/remove_all
// (other methods: 404). Drain jobs are not served (SetSegmentStatus sets the
// states they produce).

func (s *Server) registerOpsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /get_segments_detail", s.adminSegmentsDetail)
	mux.HandleFunc("GET /query_segment", s.adminQuerySegment)
	mux.HandleFunc("GET /api/v1/segments/status", s.adminSegmentStatus)
	mux.HandleFunc("/api/v1/remove_all", s.adminRemoveAll)
}

// jsonSegment keeps the master's field order.
type jsonSegment struct {
	Name         string     `json:"segment_name"`
	ID           string     `json:"segment_id"`
	ClientID     string     `json:"client_id"`
	Base         string     `json:"base_address"`
	Size         uint64     `json:"size_bytes"`
	SizeHuman    string     `json:"size_human"`
	TEEndpoint   string     `json:"te_endpoint"`
	Protocol     string     `json:"protocol"`
	Status       string     `json:"status"`
	Used         uint64     `json:"allocator_used_bytes"`
	Capacity     uint64     `json:"allocator_capacity_bytes"`
	UsagePercent jsonDouble `json:"allocator_usage_percent"`
}

// jsonDouble writes a double the way struct_json was seen to: "0E0" for
// zero, plain decimals from 1e-3 up, E notation below (7.62939453125E-4).
type jsonDouble float64

func (d jsonDouble) MarshalJSON() ([]byte, error) {
	v := float64(d)
	switch a := math.Abs(v); {
	case v == 0:
		return []byte("0E0"), nil
	case a >= 1e-3 && a < 1e21:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(v, 'E', -1, 64), "E")
	n, _ := strconv.Atoi(exp)
	return []byte(mant + "E" + strconv.Itoa(n)), nil
}

func sizeHuman(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d %s", uint64(v), units[i])
	}
	return fmt.Sprintf("%.2f %s", v, units[i])
}

func (s *Server) segmentsSnapshot() []jsonSegment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.sweep()
	segs := make([]*segment, 0, len(s.st.segments))
	for _, seg := range s.st.segments {
		segs = append(segs, seg)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].seg.Name < segs[j].seg.Name })
	out := make([]jsonSegment, len(segs))
	for i, seg := range segs {
		out[i] = jsonSegment{Name: seg.seg.Name, ID: seg.seg.ID.String(), ClientID: seg.owner.String(),
			Base: fmt.Sprintf("0x%x", seg.seg.Base), Size: seg.seg.Size, SizeHuman: sizeHuman(seg.seg.Size),
			TEEndpoint: seg.seg.TEEndpoint, Protocol: seg.seg.Protocol, Status: seg.status.String(),
			Used: seg.used, Capacity: seg.seg.Size, UsagePercent: jsonDouble(100 * float64(seg.used) / float64(seg.seg.Size))}
	}
	return out
}

func (s *Server) adminSegmentsDetail(w http.ResponseWriter, r *http.Request) {
	if s.standby(w) {
		return
	}
	segs := s.segmentsSnapshot()
	writeJSON(w, http.StatusOK, struct {
		Total    int           `json:"total_segments"`
		Segments []jsonSegment `json:"segments"`
	}{len(segs), segs})
}

// rawParam reads a query parameter without URL-decoding it, as the master
// does for some routes.
func rawParam(r *http.Request, name string) (string, bool) {
	for _, kv := range strings.Split(r.URL.RawQuery, "&") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

func (s *Server) adminQuerySegment(w http.ResponseWriter, r *http.Request) {
	if s.standby(w) {
		return
	}
	name, _ := rawParam(r, "segment")
	s.mu.Lock()
	s.st.sweep()
	seg := s.st.segmentByName(name)
	var used, capacity uint64
	if seg != nil {
		used, capacity = seg.used, seg.seg.Size
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	if seg == nil {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, "Failed to query segment")
		return
	}
	fmt.Fprintf(w, "%s\nUsed(bytes): %d\nCapacity(bytes) : %d\n", name, used, capacity)
}

func (s *Server) adminSegmentStatus(w http.ResponseWriter, r *http.Request) {
	if s.standby(w) {
		return
	}
	name := r.URL.Query().Get("segment")
	if name == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error_code": int32(mc.CodeInvalidParams), "error_message": "Missing segment query parameter"})
		return
	}
	s.mu.Lock()
	s.st.sweep()
	seg := s.st.segmentByName(name)
	var st mc.SegmentStatus
	if seg != nil {
		st = seg.status
	}
	s.mu.Unlock()
	if seg == nil {
		writeCode(w, mc.CodeSegmentNotFound)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Success    bool   `json:"success"`
		Segment    string `json:"segment"`
		Status     int32  `json:"status"`
		StatusName string `json:"status_name"`
		ErrorCode  int32  `json:"error_code"`
		ErrorMsg   string `json:"error_message"`
	}{true, name, int32(st), st.String(), 0, ""})
}

func (s *Server) adminRemoveAll(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.NotFound(w, r) // only POST is registered
		return
	}
	if s.standby(w) {
		return
	}
	f, _ := rawParam(r, "force")
	force := f == "true" || f == "1"
	s.mu.Lock()
	s.calls["RemoveAll"]++
	s.st.sweep()
	n := s.st.removeAll(force)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "removed_count": n})
}

// writeOpsMetrics appends the per-segment and task families of /metrics.
func (s *Server) writeOpsMetrics(w http.ResponseWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.st.segments))
	bySeg := map[string]*segment{}
	for _, seg := range s.st.segments {
		names = append(names, seg.seg.Name)
		bySeg[seg.seg.Name] = seg
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "segment_allocated_bytes{segment=%q} %d\nsegment_total_capacity_bytes{segment=%q} %d\n", n, bySeg[n].used, n, bySeg[n].seg.Size)
	}
	var staged uint64
	for _, d := range s.st.ops.discards {
		if seg := s.st.segments[d.seg]; seg != nil {
			for _, a := range seg.allocs {
				if a.off == d.off {
					staged += a.size
				}
			}
		}
	}
	fmt.Fprintf(w, "master_put_start_discarded_staging_size %d\n", staged)
	fmt.Fprintf(w, "master_remove_requests_total %d\nmaster_remove_all_requests_total %d\nmaster_create_move_task_requests_total %d\nmaster_create_copy_task_requests_total %d\nmaster_query_task_requests_total %d\n",
		s.calls["Remove"]+s.calls["BatchRemove"], s.calls["RemoveAll"], s.calls["CreateMoveTask"], s.calls["CreateCopyTask"], s.calls["QueryTask"])
}
