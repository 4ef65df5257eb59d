# cases_decode.sh - CLI cases of the decode width (issue #8): memex bench
# llm names the width of its decoding steps, adaptive by default and
# pinned by MEMEX_DECODE_THREADS (the figures themselves are not checked).

t_bench_llm_decode_width() {
	mkdir -p "$W/models"
	mx_ok model gen --shape llama-tiny --type q8_0 --out "$W/models/tiny-w.gguf"
	mx_ok bench llm --runs 1 "$W/models/tiny-w.gguf"
	assert_contains "$OUT" "decode width adaptive" "adaptive by default"
	assert_match "$OUT" "[0-9]+% of steps on 1 thread, [0-9]+ probes, [0-9]+ moves; mean [0-9.]+ tokens/s" "the chooser's counters"
	MEMEX_DECODE_THREADS=1 mx_ok bench llm --runs 1 "$W/models/tiny-w.gguf"
	assert_contains "$OUT" "decode width pinned (MEMEX_DECODE_THREADS=1): 1 thread(s)" "pinned to one thread"
	MEMEX_DECODE_THREADS=2 mx_ok bench llm --runs 1 "$W/models/tiny-w.gguf"
	assert_contains "$OUT" "pinned (MEMEX_DECODE_THREADS=2): 2 thread(s)" "pinned to the pool"
	MEMEX_DECODE_THREADS=bogus mx_ok bench llm --runs 1 "$W/models/tiny-w.gguf"
	assert_contains "$OUT" "decode width adaptive" "an invalid value is ignored"
}

CASES+=(bench_llm_decode_width)
