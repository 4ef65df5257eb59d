/*
 * fake_openai_main.c - the loopback test server as a program, for CLI tests:
 *
 *   fake_openai [--mode MODE] [--port-file F] [--record F] [--log F]
 *               [--file F] [--drop-first] [--no-range] [--fail-first N] [--reply TEXT]
 *               [--delay-ms N] [--max-seconds N]
 *
 * Prints the port on stdout (one line) and, with --port-file, writes it
 * there too (atomically: a reader never sees half a number). Runs until
 * SIGTERM/SIGINT or --max-seconds (default 120). Modes: see fake_openai.h.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_openai.h"

static volatile int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "port-file", required_argument, NULL, 'p' },
		{ "record", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "file", required_argument, NULL, 'f' },
		{ "drop-first", no_argument, NULL, 'd' },
		{ "no-range", no_argument, NULL, 'n' },
		{ "fail-first", required_argument, NULL, 'F' },
		{ "reply", required_argument, NULL, 'R' },
		{ "delay-ms", required_argument, NULL, 'D' },
		{ "max-seconds", required_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	struct fake_opts o = { .mode = FAKE_JSON };
	const char *port_file = NULL;
	int opt, m;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if ((m = fake_mode_parse(optarg)) < 0) {
				fprintf(stderr, "fake_openai: unknown mode '%s'\n", optarg);
				return 2;
			}
			o.mode = (enum fake_mode)m;
			break;
		case 'p': port_file = optarg; break;
		case 'r': o.record_path = optarg; break;
		case 'l': o.log_path = optarg; break;
		case 'f': o.file_path = optarg; break;
		case 'd': o.drop_first = true; break;
		case 'n': o.no_range = true; break;
		case 'F': o.fail_first = (int)strtol(optarg, NULL, 10); break;
		case 'R': o.reply = optarg; break;
		case 'D': o.delay_ms = (int)strtol(optarg, NULL, 10); break;
		case 'M': o.max_seconds = (int)strtol(optarg, NULL, 10); break;
		default: fprintf(stderr, "usage: see tests/tools/fake_openai_main.c\n"); return 2;
		}
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct fake_server *s;
	if (fake_server_start(&o, &s) != 0) {
		perror("fake_openai: cannot listen");
		return 1;
	}
	printf("%d\n", fake_server_port(s));
	fflush(stdout);
	if (port_file) {
		char tmp[4200];
		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", fake_server_port(s)) < 0 || fclose(f) != 0 ||
		    rename(tmp, port_file) != 0) {
			perror("fake_openai: cannot write the port file");
			fake_server_stop(s);
			return 1;
		}
	}
	fake_server_wait(s, &stop_flag);
	fake_server_stop(s);
	return 0;
}
