/* intentionally empty: this module exists only to carry pkg-config flags for opencv4 */
