/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The small macros every part of lunbridge uses: one copy, here.
 */
#ifndef LUNBRIDGE_MACRO_H
#define LUNBRIDGE_MACRO_H

#include <stddef.h>

/* The structure of type that holds member at ptr. */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* The number of elements of an array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
