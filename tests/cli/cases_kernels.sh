# cases_kernels.sh - CLI cases of the kernels area: memex bench llm and
# memex bench qmat (their errors, and one short run on a tiny model; the
# figures themselves are not checked).

t_bench_llm() {
	mkdir -p "$W/models"
	mx_ok model gen --shape llama-tiny --type q8_0 --out "$W/models/tiny.gguf"
	mx_ok bench llm --runs 1 "$W/models/tiny.gguf"
	assert_contains "$OUT" "prefill  128 tokens" "bench llm times a prefill"
	assert_contains "$OUT" "of sgemm" "prefill against sgemm"
	assert_contains "$OUT" "of read bandwidth" "decode against the bandwidth"
	assert_contains "$OUT" "load average" "the load is reported"
	mx bench llm "$W/models/none.gguf"
	assert_rc 1
	assert_one_line_error "cannot load"
	mx bench llm
	assert_rc 2
}

t_bench_qmat_errors() {
	mx bench qmat --shape 7b
	assert_rc 2
	assert_one_line_error "unknown shape"
	mx bench qmat --type Q9_9
	assert_rc 2
	assert_one_line_error "unknown or unsupported weight type"
	mx bench qmat --kernels sse9
	assert_rc 2
	assert_one_line_error "kernel family"
}

CASES+=(bench_llm bench_qmat_errors)
