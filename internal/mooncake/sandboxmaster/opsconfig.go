package sandboxmaster

import (
	"time"

	mc "lmc/internal/mooncake"
)

// opsConfig holds the master flags of the store operations (mooncake-ops.md
// §4.4, §4.6) and how the sandbox plays the storage clients that execute
// tasks.
type opsConfig struct {
	execute           bool          // the sandbox executes tasks for their assigned clients
	fetchAfter        time.Duration // a live client fetches a task this long after its creation
	runFor            time.Duration // and finishes it this long after the fetch
	pendingTimeout    time.Duration // --pending_task_timeout_sec; 0 = never
	processingTimeout time.Duration // --processing_task_timeout_sec; 0 = never
	cleanupEvery      time.Duration // kTaskCleanupThreadSleepMs
	maxFinished       int           // --max_total_finished_tasks
	maxPending        int           // --max_total_pending_tasks
	retries           int           // --max_retry_attempts, quoted in FAILED messages
	releaseAfter      time.Duration // --put_start_release_timeout_sec: moved-away sources
	newTaskID         func() mc.UUID
}

func defaultOpsConfig() opsConfig {
	return opsConfig{
		fetchAfter:        time.Second, // Mooncake's client polls FetchTasks every second
		runFor:            500 * time.Millisecond,
		pendingTimeout:    300 * time.Second,
		processingTimeout: 300 * time.Second,
		cleanupEvery:      30 * time.Second,
		maxFinished:       10000,
		maxPending:        10000,
		retries:           10,
		releaseAfter:      600 * time.Second,
	}
}

// WithExecuteTasks makes the sandbox execute copy and move tasks the way
// Mooncake's storage client does, for every task whose assigned client (the
// owner of the source segment) is alive: fetchAfter after creation the task
// turns PROCESSING and the replication starts (CopyStart/MoveStart: target
// replicas allocated, PROCESSING; the key cannot be removed), runFor later
// it ends (CopyEnd/MoveEnd: targets COMPLETE, a moved source released after
// the put-start release timeout) and the task is SUCCESS, or FAILED with the
// client's message "<ERROR_NAME> (max retries reached: 10)". Metadata only:
// no bytes move. Without it, tasks stay PENDING until the pending timeout,
// as on a master whose storage clients are not running. Zero durations
// mean the defaults (1 s, the real client's poll period, and 500 ms).
func WithExecuteTasks(fetchAfter, runFor time.Duration) Option {
	return func(c *config) {
		c.ops.execute = true
		if fetchAfter > 0 {
			c.ops.fetchAfter = fetchAfter
		}
		if runFor > 0 {
			c.ops.runFor = runFor
		}
	}
}

// WithTaskTimeouts sets --pending_task_timeout_sec and
// --processing_task_timeout_sec (300 s each by default; 0 = never). Like
// the master, timeouts are applied by a cleanup pass every 30 s
// (WithTaskCleanupInterval), so a task fails between T and T+30 s.
func WithTaskTimeouts(pending, processing time.Duration) Option {
	return func(c *config) { c.ops.pendingTimeout, c.ops.processingTimeout = pending, processing }
}

// WithTaskCleanupInterval sets the period of the task cleanup pass (30 s).
// Passes run at server start + k*interval, on the injected clock.
func WithTaskCleanupInterval(d time.Duration) Option {
	return func(c *config) { c.ops.cleanupEvery = d }
}

// WithTaskLimits sets --max_total_pending_tasks (CreateXTask answers
// TASK_PENDING_LIMIT_EXCEEDED beyond it) and --max_total_finished_tasks
// (older finished tasks are pruned: TASK_NOT_FOUND). Defaults 10000 each.
func WithTaskLimits(maxPending, maxFinished int) Option {
	return func(c *config) { c.ops.maxPending, c.ops.maxFinished = maxPending, maxFinished }
}

// WithPutStartReleaseTimeout sets --put_start_release_timeout_sec (600 s):
// how long a moved key's source replica keeps its space (§4.6). The release
// runs every timeout period, so space comes back between T and 2T.
func WithPutStartReleaseTimeout(d time.Duration) Option {
	return func(c *config) { c.ops.releaseAfter = d }
}

// WithTaskIDs replaces the random task id generator (to reproduce captured
// frames). Ids must be unique and non-zero.
func WithTaskIDs(next func() mc.UUID) Option { return func(c *config) { c.ops.newTaskID = next } }
