// Written for git-sit's tests from SIT-FORMAT §5.6.
module.exports = function (state, record) {
    if (record.files['.type/Closed']) {
        this.state = 'closed';
    } else if (record.files['.type/Reopened']) {
        this.state = 'open';
    }
    this.state = this.state || 'open';
    state.state = this.state;
    return state;
};
