#ifndef BROWNOUT_CGSL_SHIM_H
#define BROWNOUT_CGSL_SHIM_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_psi.h>
#include <gsl/gsl_statistics_double.h>

/* GSL exposes its generator types as mutable globals, which Swift 6 rejects as
   shared mutable state; these accessors hand them out as plain values. */
static inline const gsl_rng_type *brownout_gsl_rng_mt19937(void) { return gsl_rng_mt19937; }

#endif
