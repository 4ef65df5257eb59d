/*
 * replay.c - runs a fuzz target's LLVMFuzzerTestOneInput over every file of
 * the corpora named on the command line (files or folders, recursively), so
 * that `make test` replays them under the sanitizers without libFuzzer.
 * Missing corpora are reported and skipped. Prints "replayed N inputs".
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "../../common/fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static int one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag != FTW_F || !S_ISREG(sb->st_mode))
		return 0;
	char *data = NULL;
	size_t len = 0;
	if (mx_read_file(path, 16u << 20, &data, &len) != 0)
		return 0;
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	free(data);
	replayed++;
	return 0;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		if (stat(argv[i], &sb) != 0) {
			printf("skip %s: not found\n", argv[i]);
			continue;
		}
		nftw(argv[i], one, 16, FTW_PHYS);
	}
	printf("replayed %lu inputs\n", replayed);
	return 0;
}
