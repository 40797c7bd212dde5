/* say.h — the hostile guest's output: "HOSTILE <attempt>: <what happened>". */
#ifndef HOSTILE_SAY_H
#define HOSTILE_SAY_H

void say(const char *attempt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "#UD", "#GP", ... for a probe's vector, or "no fault". */
const char *fault_text(int vector);

#endif
