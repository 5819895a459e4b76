// Counts the records reduced so far in `this`; runs before any module reducer.
module.exports = function (state) {
    this.n = (this.n || 0) + 1;
    state.tagged = this.n;
    return state;
};
